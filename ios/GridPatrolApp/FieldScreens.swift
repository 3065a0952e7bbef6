import GridPatrolFFI
import GridPatrolKit
import SwiftUI

/// 新增场所: a place found on patrol, in one of the worker's grids, with a fix if one comes.
/// It shows as 新增 until the village or township confirms it.
struct AddPlaceView: View {
    let kit: PatrolKit
    let user: String
    @Environment(\.dismiss) private var dismiss
    @State private var grids: [String] = []
    @State private var types: [PlaceTypeChoice] = []
    @State private var grid = ""
    @State private var type = ""
    @State private var name = ""
    @State private var address = ""
    @State private var risk = "中"
    @State private var responsible = ""
    @State private var phone = ""
    @State private var error: String?

    var body: some View {
        Form {
            Picker("网格", selection: $grid) { ForEach(grids, id: \.self) { Text($0).tag($0) } }
            Picker("类型", selection: $type) { ForEach(types, id: \.code) { Text($0.zh).tag($0.code) } }
            TextField("场所名称", text: $name)
            TextField("地址", text: $address)
            Picker("风险等级", selection: $risk) {
                ForEach(["高", "中", "低"], id: \.self) { Text("\($0)风险").tag($0) }
            }
            .pickerStyle(.segmented)
            TextField("负责人", text: $responsible)
            TextField("负责人电话（可不填）", text: $phone).keyboardType(.phonePad)
            if let error { Text(error).foregroundStyle(.red) }
            Button("登记") { register() }
        }
        .navigationTitle("新增场所")
        .task {
            grids = Array(Set((try? await kit.duePatrols(user: user))?.map(\.gridId) ?? [])).sorted()
            grid = grids.first ?? ""
            types = (try? await kit.placeTypes()) ?? []
        }
    }

    private func register() {
        Task {
            let fix = await Location.currentFix()
            let place = NewPlaceInput(
                gridId: grid, placeType: type, name: name, address: address, riskLevel: risk,
                responsibleName: responsible, responsiblePhone: phone.isEmpty ? nil : phone,
                latitude: fix?.latitude, longitude: fix?.longitude
            )
            do {
                _ = try await kit.addPlace(user: user, place)
                GridPatrolApp.scheduleBackgroundSync()
                dismiss()
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }
}

/// 宣传培训登记: publicity and where it went (五进), or a training and its sign-in list, saved as
/// a draft as it is typed.
struct ActivityView: View {
    let kit: PatrolKit
    let user: String
    @Environment(\.dismiss) private var dismiss
    @State private var draft: String?
    @State private var grids: [String] = []
    @State private var grid = ""
    @State private var type = ActivityType.publicity
    @State private var title = ""
    @State private var audience = ""
    @State private var note = ""
    @State private var channel: PublicityChannel?
    @State private var attendees = ""
    @State private var error: String?
    @State private var confirmDiscard = false

    private static let channels: [(PublicityChannel, String)] = [
        (.enterprises, "进企业"), (.villages, "进农村"), (.communities, "进社区"), (.schools, "进学校"), (.families, "进家庭"),
    ]

    var body: some View {
        Form {
            if let draft {
                TextField("活动名称", text: saved($title, draft))
                TextField("参加人次", text: saved($audience, draft)).keyboardType(.numberPad)
                if type == .publicity {
                    Picker("渠道", selection: Binding(get: { channel }, set: { channel = $0; save(draft) })) {
                        ForEach(Self.channels, id: \.1) { c in Text(c.1).tag(PublicityChannel?.some(c.0)) }
                    }
                } else {
                    TextField("签到名单（每行一人）", text: saved($attendees, draft), axis: .vertical)
                }
                TextField("说明", text: saved($note, draft), axis: .vertical)
                Button("提交") { submit(draft) }
                Button("放弃", role: .destructive) { confirmDiscard = true }
                    .confirmationDialog("放弃这次登记？已填写的内容将被删除。", isPresented: $confirmDiscard) {
                        Button("放弃", role: .destructive) {
                            Task {
                                do {
                                    try await kit.discardDraft(user: user, draft: draft)
                                    dismiss()
                                } catch let e as PatrolError { error = e.zh } catch {}
                            }
                        }
                    }
            } else {
                Picker("类型", selection: $type) {
                    Text("消防宣传").tag(ActivityType.publicity)
                    Text("消防培训").tag(ActivityType.training)
                }
                .pickerStyle(.segmented)
                Picker("网格", selection: $grid) { ForEach(grids, id: \.self) { Text($0).tag($0) } }
                Button("开始登记") { start() }.disabled(grid.isEmpty)
            }
            if let error { Text(error).foregroundStyle(.red) }
        }
        .navigationTitle("宣传培训登记")
        .task {
            grids = Array(Set((try? await kit.duePatrols(user: user))?.map(\.gridId) ?? [])).sorted()
            grid = grids.first ?? ""
        }
    }

    private func saved(_ field: Binding<String>, _ draft: String) -> Binding<String> {
        Binding(get: { field.wrappedValue }, set: { field.wrappedValue = $0; save(draft) })
    }

    private func names() -> [String] {
        attendees.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func store(_ draft: String) async throws {
        try await kit.saveActivityDraft(
            user: user, draft: draft, title: title, audience: UInt32(audience) ?? 0, note: note,
            channel: channel, attendees: names(), photos: []
        )
    }

    private func save(_ draft: String) {
        Task { do { try await store(draft) } catch let e as PatrolError { error = e.zh } catch {} }
    }

    private func start() {
        Task {
            do {
                let today = try await kit.today()
                draft = try await kit.startActivityDraft(user: user, type: type, org: grid, heldOn: today)
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }

    private func submit(_ draft: String) {
        Task {
            do {
                try await store(draft)
                _ = try await kit.submitDraft(user: user, draft: draft)
                GridPatrolApp.scheduleBackgroundSync()
                dismiss()
            } catch let e as PatrolError { error = e.zh } catch {}
        }
    }
}
