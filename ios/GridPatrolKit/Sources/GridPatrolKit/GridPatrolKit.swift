import Foundation
import GridPatrolFFI

/// The errors a screen acts on, each with its message in zh-CN and English.
public enum PatrolError: Error, Equatable {
    case invalidInput(field: String, zh: String, en: String)
    case notAllowed(code: String, zh: String, en: String)
    case notFound(zh: String, en: String)
    case network(zh: String, en: String)
    case authExpired(zh: String, en: String)
    case storage(code: String, zh: String, en: String)

    /// What the person reads.
    public var zh: String {
        switch self {
        case let .invalidInput(_, zh, _), let .notAllowed(_, zh, _), let .notFound(zh, _),
             let .network(zh, _), let .authExpired(zh, _), let .storage(_, zh, _):
            return zh
        }
    }

    init(_ e: GridPatrolError) {
        switch e {
        case let .InvalidInput(field, zh, en): self = .invalidInput(field: field, zh: zh, en: en)
        case let .NotAllowed(code, zh, en): self = .notAllowed(code: code, zh: zh, en: en)
        case let .NotFound(zh, en): self = .notFound(zh: zh, en: en)
        case let .Network(zh, en): self = .network(zh: zh, en: en)
        case let .AuthExpired(zh, en): self = .authExpired(zh: zh, en: en)
        case let .Storage(code, zh, en): self = .storage(code: code, zh: zh, en: en)
        }
    }
}

/// Hands sync progress from the syncing thread to a closure.
private final class ProgressRelay: SyncListener, @unchecked Sendable {
    private let onProgress: @Sendable (SyncProgress) -> Void
    init(_ onProgress: @escaping @Sendable (SyncProgress) -> Void) { self.onProgress = onProgress }
    func onProgress(progress: SyncProgress) { onProgress(progress) }
}

/// The app's way into the core: each call runs the blocking core call on a background queue
/// (never the main thread) and is awaited; failures throw `PatrolError`.
public final class PatrolKit: @unchecked Sendable {
    private let store: PatrolStore
    private let queue = DispatchQueue(label: "cn.gridpatrol.core", qos: .userInitiated)

    public init(path: String) throws {
        do {
            store = try PatrolStore.open(path: path, config: DeviceConfig(fixedClockMs: nil))
        } catch let e as GridPatrolError {
            throw PatrolError(e)
        }
    }

    private func call<T>(_ body: @escaping (PatrolStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    continuation.resume(returning: try body(self.store))
                } catch let e as GridPatrolError {
                    continuation.resume(throwing: PatrolError(e))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    public func duePatrols(user: String) async throws -> [DuePatrol] {
        try await call { try $0.duePatrols(userId: user) }
    }

    public func patrolForm(user: String, place: String) async throws -> PatrolForm {
        try await call { try $0.patrolForm(userId: user, placeId: place) }
    }

    public func recordPatrol(user: String, draft: PatrolDraft) async throws -> PatrolResult {
        try await call { try $0.recordPatrol(userId: user, draft: draft) }
    }

    public func reportHazard(user: String, hazard: NewHazard) async throws -> String {
        try await call { try $0.reportHazard(userId: user, hazard: hazard) }
    }

    public func hazards(user: String) async throws -> [HazardSummary] {
        try await call { try $0.hazards(userId: user) }
    }

    public func hazard(user: String, id: String) async throws -> HazardDetail {
        try await call { try $0.hazard(userId: user, hazardId: id) }
    }

    public func transition(user: String, id: String, _ t: Transition) async throws -> HazardDetail {
        try await call { try $0.transition(userId: user, hazardId: id, transition: t) }
    }

    public func report(user: String, scope: String, from: String, to: String) async throws -> ReportFigures {
        try await call { try $0.report(userId: user, scopeId: scope, from: from, to: to) }
    }

    /// Signs in; true when the password is a first one, to be changed now (`changePassword`).
    @discardableResult
    public func signIn(server: String, user: String, password: String) async throws -> Bool {
        try await call { try $0.signIn(server: server, userId: user, password: password) }
    }

    public func changePassword(old: String, new: String) async throws {
        try await call { try $0.changePassword(oldPassword: old, newPassword: new) }
    }

    /// Registers a place found on patrol (新增 until the village or township confirms it).
    public func addPlace(user: String, _ place: NewPlaceInput) async throws -> String {
        try await call { try $0.addPlace(userId: user, place: place) }
    }

    /// Corrects a place's name, address or responsible person.
    public func editPlace(user: String, _ edit: PlaceEdit) async throws {
        try await call { try $0.editPlace(userId: user, edit: edit) }
    }

    public func signOut(force: Bool = false) async throws -> Bool {
        try await call { try $0.signOut(force: force) }
    }

    public func syncStatus(user: String?) async throws -> SyncStatus {
        try await call { try $0.syncStatus(userId: user) }
    }

    public func refusedOps() async throws -> [RefusedOp] {
        try await call { try $0.refusedOps() }
    }

    public func conflicts(user: String) async throws -> [ConflictItem] {
        try await call { try $0.conflicts(userId: user) }
    }

    /// Sends what is pending and fetches what is new; `progress` is called off the main thread.
    public func syncNow(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        let relay = ProgressRelay(progress)
        return try await call { try $0.syncNow(listener: relay) }
    }

    // Drafts: every screen saves as the person works, so a killed app loses nothing; 续填 lists
    // them until they are submitted or discarded on purpose.

    public func drafts(user: String) async throws -> [DraftSummary] {
        try await call { try $0.drafts(userId: user) }
    }

    public func startPatrolDraft(user: String, place: String, fix: GpsFix?) async throws -> String {
        try await call { try $0.startPatrolDraft(userId: user, placeId: place, fix: fix) }
    }

    public func saveDraftAnswer(user: String, draft: String, item: String, answer: Answer?) async throws {
        try await call { try $0.saveDraftAnswer(userId: user, draftId: draft, itemKey: item, answer: answer) }
    }

    public func saveDraftItemHazard(user: String, draft: String, item: String, hazard: ItemHazard?) async throws {
        try await call { try $0.saveDraftItemHazard(userId: user, draftId: draft, itemKey: item, hazard: hazard) }
    }

    public func saveDraftNote(user: String, draft: String, note: String, fix: GpsFix?) async throws {
        try await call { try $0.saveDraftNote(userId: user, draftId: draft, note: note, fix: fix) }
    }

    public func patrolDraft(user: String, draft: String) async throws -> PatrolInProgress {
        try await call { try $0.patrolDraft(userId: user, draftId: draft) }
    }

    /// Submits once: a second call throws `PatrolError.notFound`.
    public func submitDraft(user: String, draft: String) async throws -> DraftOutcome {
        try await call { try $0.submitDraft(userId: user, draftId: draft) }
    }

    public func discardDraft(user: String, draft: String) async throws {
        try await call { try $0.discardDraft(userId: user, draftId: draft) }
    }

    public func startActivityDraft(user: String, type: ActivityType, org: String, heldOn: String) async throws -> String {
        try await call { try $0.startActivityDraft(userId: user, activity: type, orgId: org, heldOn: heldOn) }
    }

    /// `trainees`: a training's people by account with their assessment (考核), if any.
    // swiftlint:disable:next function_parameter_count
    public func saveActivityDraft(
        user: String, draft: String, title: String, audience: UInt32, note: String,
        channel: PublicityChannel?, attendees: [String], photos: [String], trainees: [Trainee] = []
    ) async throws {
        try await call {
            try $0.saveActivityDraft(
                userId: user, draftId: draft, title: title, audience: audience, note: note,
                channel: channel, attendees: attendees, photos: photos, trainees: trainees
            )
        }
    }

    public func today() async throws -> String {
        try await call { $0.today() }
    }

    /// The place types a place can be registered as.
    public func placeTypes() async throws -> [PlaceTypeChoice] {
        try await call { $0.placeTypes() }
    }

    /// What waits for the user today.
    public func reminders(user: String) async throws -> ReminderCounts {
        try await call { try $0.reminders(userId: user) }
    }

    /// The local notifications to schedule now (`lastSummaryOn`: the day a summary was last shown).
    public func notices(user: String, lastSummaryOn: String?) async throws -> [LocalNotice] {
        try await call { try $0.notices(userId: user, lastSummaryOn: lastSummaryOn) }
    }

    /// Keeps a photo file as the camera wrote it, under its SHA-256 (returned).
    public func addPhotoFile(path: String) async throws -> String {
        try await call { try $0.addPhotoFile(path: path) }
    }

    /// Cancels a running call (a long sync); later calls run normally.
    public func interrupt() { store.interrupt() }

    /// Closes the database; later calls throw `PatrolError.storage`.
    public func shutdown() { store.shutdown() }
}
