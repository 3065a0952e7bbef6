import GridPatrolFFI
import GridPatrolKit
import SwiftUI

/// 登录; a first password (from an import or a reset) is changed here before going on.
struct SignInView: View {
    let kit: PatrolKit
    @EnvironmentObject var model: AppModel
    @State private var server = "https://"
    @State private var user = ""
    @State private var password = ""
    @State private var mustChange = false
    @State private var newPassword = ""
    @State private var error: String?

    var body: some View {
        Form {
            TextField("服务器地址", text: $server).textInputAutocapitalization(.never)
            TextField("账号", text: $user).textInputAutocapitalization(.never)
            SecureField("密码", text: $password)
            if mustChange {
                Text("首次登录，请设置自己的新密码")
                SecureField("新密码", text: $newPassword)
            }
            if let error { Text(error).foregroundStyle(.red) }
            Button(mustChange ? "设置新密码" : "登录") {
                Task {
                    do {
                        if mustChange {
                            try await kit.changePassword(old: password, new: newPassword)
                        } else if try await kit.signIn(server: server, user: user, password: password) {
                            mustChange = true
                            return
                        }
                        _ = try await kit.syncNow()
                        await model.refreshUser()
                    } catch let e as PatrolError {
                        error = e.zh
                    }
                }
            }
        }
    }
}

/// 今日巡查: what waits today in one line, visits begun and not submitted (续填), then the
/// places due, most overdue first.
struct DueView: View {
    let kit: PatrolKit
    let user: String
    @State private var due: [DuePatrol] = []
    @State private var begun: [DraftSummary] = []
    @State private var summary: String?
    @State private var error: String?

    var body: some View {
        List {
            if let summary { Text(summary).font(.callout) }
            NavigationLink("新增场所") { AddPlaceView(kit: kit, user: user) }
            NavigationLink("登记消防宣传 / 培训") { ActivityView(kit: kit, user: user) }
            if !begun.isEmpty {
                Section("续填") {
                    ForEach(begun.filter { $0.kind == .patrol }, id: \.draftId) { d in
                        NavigationLink(value: d.placeId ?? "") {
                            Text("\(d.placeName ?? "巡查")（已答 \(d.answered) 项）")
                        }
                    }
                }
            }
            ForEach(due, id: \.placeId) { p in
                NavigationLink(value: p.placeId) {
                    VStack(alignment: .leading) {
                        Text(p.name)
                        Text("\(p.placeTypeZh) · \(p.riskZh) · \(p.daysOverdue > 0 ? "逾期 \(p.daysOverdue) 天" : "今日")")
                            .font(.caption)
                    }
                }
            }
        }
        .navigationTitle("今日巡查")
        .navigationDestination(for: String.self) { place in ChecklistView(kit: kit, user: user, placeId: place) }
        .overlay { if let error { Text(error).foregroundStyle(.red) } }
        .task {
            do {
                summary = try await kit.reminders(user: user).summary
                begun = try await kit.drafts(user: user)
                due = try await kit.duePatrols(user: user)
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }
}

/// 巡查表: the checklist as a draft in the core from the first tap: every answer, hazard wording
/// and note is saved as it is given, so a killed app finds it again here and under 续填. A failed
/// item becomes a hazard in the library's words, editable. GPS is asked for in the background.
struct ChecklistView: View {
    let kit: PatrolKit
    let user: String
    let placeId: String
    @Environment(\.dismiss) private var dismiss
    @State private var form: PatrolForm?
    @State private var draft: String?
    @State private var answers: [String: Answer] = [:]
    @State private var hazards: [String: ItemHazard] = [:]
    @State private var note = ""
    @State private var error: String?
    @State private var confirmDiscard = false
    /// The last save: each waits for the one before, so saves land in the order they were made.
    @State private var saving: Task<Void, Never>?

    var body: some View {
        Form {
            if let form, let draft {
                ForEach(form.items, id: \.key) { item in
                    VStack(alignment: .leading) {
                        Text(item.label + (item.focus ? " ★重点" : "") + (item.failedLastTime ? " ⚠上次不合格" : ""))
                        if item.itemType == .passFail {
                            Picker("", selection: binding(item, draft)) {
                                ForEach([Answer.pass, .fail, .notApplicable], id: \.self) { a in
                                    Text(answerZh(answer: a)).tag(Answer?.some(a))
                                }
                            }
                            .pickerStyle(.segmented)
                        }
                        if let h = hazards[item.key] {
                            TextField("隐患描述", text: wording(item, h, draft), axis: .vertical)
            
                        }
                    }
                }
                TextField("备注", text: Binding(get: { note }, set: { text in
                    note = text
                    queued { try await kit.saveDraftNote(user: user, draft: draft, note: note, fix: nil) }
                }))
                NavigationLink("上报其他隐患") { ReportHazardView(kit: kit, user: user, placeId: placeId) }
                Button("提交巡查") { submit(draft) }
                Button("放弃", role: .destructive) { confirmDiscard = true }
            }
            if let error { Text(error).foregroundStyle(.red) }
        }
        .navigationTitle(form?.placeName ?? "")
        .confirmationDialog("放弃本次巡查？已填写的内容将被删除。", isPresented: $confirmDiscard) {
            Button("放弃", role: .destructive) {
                guard let draft else { return }
                Task {
                    do {
                        try await kit.discardDraft(user: user, draft: draft)
                        dismiss()
                    } catch let e as PatrolError { error = e.zh } catch {}
                }
            }
        }
        .task { await open() }
    }

    /// The visit already begun at this place, or a new one; then a fix if one comes.
    private func open() async {
        do {
            form = try await kit.patrolForm(user: user, place: placeId)
            // The visit already begun here (the core keeps one per place), or a new one.
            let id = try await kit.startPatrolDraft(user: user, place: placeId, fix: nil)
            let saved = try await kit.patrolDraft(user: user, draft: id)
            for a in saved.answers { answers[a.key] = a.answer }
            for h in saved.hazards { hazards[h.itemKey] = h }
            note = saved.note
            draft = id
            if let fix = await Location.currentFix() {
                queued { try await kit.saveDraftNote(user: user, draft: id, note: note, fix: fix) }
            }
        } catch let e as PatrolError { error = e.zh } catch {}
    }

    /// Runs `save` after every save before it; a refusal is shown, never swallowed.
    private func queued(_ save: @escaping () async throws -> Void) {
        let before = saving
        saving = Task {
            await before?.value
            do { try await save() } catch let e as PatrolError { error = e.zh } catch {}
        }
    }

    private func binding(_ item: ChecklistItem, _ draft: String) -> Binding<Answer?> {
        Binding(get: { answers[item.key] }, set: { answer in
            answers[item.key] = answer
            // A failure is raised by default, in the library's words; anything else takes it
            // back. An item that asks for a photo is not: this screen has no camera, and the
            // core would refuse the visit without one (report it with its photo instead).
            let raise = answer == .fail && !item.photoOnFail
                ? (hazards[item.key] ?? ItemHazard(itemKey: item.key, description: nil, photos: [])) : nil
            hazards[item.key] = raise
            queued {
                try await kit.saveDraftAnswer(user: user, draft: draft, item: item.key, answer: answer)
                try await kit.saveDraftItemHazard(user: user, draft: draft, item: item.key, hazard: raise)
            }
        })
    }

    private func wording(_ item: ChecklistItem, _ h: ItemHazard, _ draft: String) -> Binding<String> {
        Binding(get: { hazards[item.key]?.description ?? item.failureWording }, set: { text in
            let changed = ItemHazard(itemKey: item.key, description: text, photos: h.photos)
            hazards[item.key] = changed
            queued { try await kit.saveDraftItemHazard(user: user, draft: draft, item: item.key, hazard: changed) }
        })
    }

    private func submit(_ draft: String) {
        let before = saving
        Task {
            await before?.value
            do {
                _ = try await kit.submitDraft(user: user, draft: draft)
                GridPatrolApp.scheduleBackgroundSync()
                await Reminders.refresh(kit: kit)
                dismiss()
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }
}

/// 隐患上报, with photos from the camera kept by their SHA-256.
struct ReportHazardView: View {
    let kit: PatrolKit
    let user: String
    let placeId: String
    @Environment(\.dismiss) private var dismiss
    @State private var category = ""
    @State private var description = ""
    @State private var major = false
    @State private var photos: [String] = []
    @State private var showCamera = false
    @State private var error: String?

    var body: some View {
        Form {
            TextField("隐患类别（如 wiring、extinguisher）", text: $category)
            TextField("隐患描述", text: $description, axis: .vertical)
            Toggle("重大隐患", isOn: $major)
            Button("拍照（已拍 \(photos.count) 张）") { showCamera = true }
            if let error { Text(error).foregroundStyle(.red) }
            Button("上报") {
                let hazard = NewHazard(placeId: placeId, category: category, severity: major ? .major : .general,
                                       description: description, photos: photos)
                Task {
                    do {
                        _ = try await kit.reportHazard(user: user, hazard: hazard)
                        GridPatrolApp.scheduleBackgroundSync()
                        dismiss()
                    } catch let e as PatrolError { error = e.zh } catch {}
                }
            }
        }
        .sheet(isPresented: $showCamera) {
            CameraView { data in
                if let hash = try? PhotoStore.keep(data) { photos.append(hash) }
            }
        }
    }
}

struct HazardListView: View {
    let kit: PatrolKit
    let user: String
    @State private var hazards: [HazardSummary] = []

    var body: some View {
        List(hazards, id: \.id) { h in
            NavigationLink(value: h.id) {
                VStack(alignment: .leading) {
                    Text(h.categoryZh)
                    Text("\(h.statusZh) · \(levelZh(level: h.level))").font(.caption)
                }
            }
        }
        .navigationTitle("隐患")
        .navigationDestination(for: String.self) { id in HazardDetailView(kit: kit, user: user, hazardId: id) }
        .task { hazards = (try? await kit.hazards(user: user)) ?? [] }
    }
}

/// 隐患详情: timeline (collided actions marked) and the actions this user may take.
struct HazardDetailView: View {
    let kit: PatrolKit
    let user: String
    let hazardId: String
    @State private var detail: HazardDetail?
    @State private var acting: String?
    @State private var text = ""
    @State private var day = ""
    @State private var error: String?

    var body: some View {
        List {
            if let d = detail {
                Section {
                    Text("\(d.summary.categoryZh) · \(d.summary.statusZh)")
                    Text(d.description)
                    if let deadline = d.summary.deadline { Text("整改期限 \(deadline)") }
                }
                Section("可执行") {
                    ForEach(d.allowed, id: \.self) { verb in
                        Button(verbZh(verb: verb)) { acting = verb }
                    }
                }
                Section("处置记录") {
                    ForEach(d.timeline, id: \.opId) { e in
                        VStack(alignment: .leading) {
                            Text("\(e.actorRoleZh) \(verbZh(verb: e.verb))")
                            if let why = e.conflictZh { Text("未生效：\(why)").foregroundStyle(.red) }
                        }
                    }
                }
            }
            if let error { Text(error).foregroundStyle(.red) }
        }
        .task { detail = try? await kit.hazard(user: user, id: hazardId) }
        .alert(verbZh(verb: acting ?? ""), isPresented: Binding(get: { acting != nil }, set: { if !$0 { acting = nil } })) {
            TextField("说明 / 责任人", text: $text)
            TextField("日期（年-月-日）", text: $day)
            Button("确定") { act() }
            Button("取消", role: .cancel) {}
        }
    }

    private func act() {
        guard let verb = acting else { return }
        let t: Transition
        switch verb {
        case "notify": t = .notify(responsibleParty: text, deadline: day, note: "")
        case "start_rectification": t = .startRectification(note: text)
        case "submit_rectification": t = .submitRectification(note: text, photos: [])
        case "review": t = .review(passed: true, note: text, newDeadline: nil)
        case "escalate": t = .escalate(to: .village, cause: .beyondPower, note: text)
        case "supervise": t = .supervise(note: text)
        default: t = .withdraw(reason: text)
        }
        Task {
            do {
                detail = try await kit.transition(user: user, id: hazardId, t)
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }
}

/// 同步: pending, last sync, refused records (kept here with their reason), conflicts.
struct SyncView: View {
    let kit: PatrolKit
    let user: String
    @EnvironmentObject var model: AppModel
    @State private var status: SyncStatus?
    @State private var refused: [RefusedOp] = []
    @State private var conflicts: [ConflictItem] = []
    @State private var progress = ""
    @State private var error: String?

    var body: some View {
        List {
            if let s = status {
                Text("待上传 \(s.pendingOps) 条")
                Text("上次同步 \(s.lastSyncMs.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted() } ?? "从未")")
            }
            Button("立即同步") {
                Task {
                    do {
                        let r = try await kit.syncNow { p in Task { @MainActor in progress = progressZh(progress: p) } }
                        progress = "已同步：上传 \(r.pushed)，下载 \(r.pulled)"
                        await reload()
                    } catch let e as PatrolError { error = e.zh } catch {}
                }
            }
            Text(progress)
            if let error { Text(error).foregroundStyle(.red) }
            Section("被服务器拒绝（已保留在本机）") { ForEach(refused, id: \.opId) { Text("\($0.kind)：\($0.zh)") } }
            Section("需要处理的冲突") {
                ForEach(conflicts, id: \.hazardId) { c in Text("\(c.actorId) \(verbZh(verb: c.verb))：\(c.reasonZh)") }
            }
            Button("退出登录") {
                Task {
                    do {
                        _ = try await kit.signOut()
                        await model.refreshUser()
                    } catch let e as PatrolError { error = e.zh } catch {}
                }
            }
        }
        .task { await reload() }
    }

    private func reload() async {
        status = try? await kit.syncStatus(user: user)
        refused = (try? await kit.refusedOps()) ?? []
        conflicts = (try? await kit.conflicts(user: user)) ?? []
    }
}
