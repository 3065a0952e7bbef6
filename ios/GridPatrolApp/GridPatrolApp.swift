import BackgroundTasks
import GridPatrolKit
import SwiftUI

/// The app: one store per phone, background sync registered with BGTaskScheduler (the task
/// runs when iOS grants time and a network is there; work stays on the phone until then).
@main
struct GridPatrolApp: App {
    static let syncTask = "cn.gridpatrol.sync"
    @StateObject private var model = AppModel()

    init() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.syncTask, using: nil) { task in
            Self.runBackgroundSync(task as! BGProcessingTask)
        }
        Self.scheduleBackgroundSync()
        Reminders.register()
    }

    var body: some Scene {
        WindowGroup {
            ContentView().environmentObject(model)
        }
    }

    static func scheduleBackgroundSync() {
        let request = BGProcessingTaskRequest(identifier: syncTask)
        request.requiresNetworkConnectivity = true
        request.earliestBeginDate = Date(timeIntervalSinceNow: 30 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    static func runBackgroundSync(_ task: BGProcessingTask) {
        scheduleBackgroundSync()
        guard let kit = AppModel.openKit() else {
            task.setTaskCompleted(success: false)
            return
        }
        let work = Task {
            let ok = (try? await kit.syncNow()) != nil
            task.setTaskCompleted(success: ok)
        }
        task.expirationHandler = {
            kit.interrupt()
            work.cancel()
        }
    }
}

/// Who is signed in, and the store every screen uses.
@MainActor
final class AppModel: ObservableObject {
    let kit: PatrolKit?
    @Published var user: String?
    @Published var error: String?

    static func openKit() -> PatrolKit? {
        let folder = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try? PatrolKit(path: folder.appendingPathComponent("gridpatrol.db").path)
    }

    init() {
        kit = Self.openKit()
        if kit == nil { error = "无法打开本机数据库" }
        Task { await refreshUser() }
    }

    func refreshUser() async {
        user = try? await kit?.syncStatus(user: nil).userId
    }
}

struct ContentView: View {
    @EnvironmentObject var model: AppModel

    var body: some View {
        if let kit = model.kit, let user = model.user {
            TabView {
                NavigationStack { DueView(kit: kit, user: user) }
                    .tabItem { Label("今日巡查", systemImage: "checklist") }
                NavigationStack { HazardListView(kit: kit, user: user) }
                    .tabItem { Label("隐患", systemImage: "exclamationmark.triangle") }
                NavigationStack { SyncView(kit: kit, user: user) }
                    .tabItem { Label("同步", systemImage: "arrow.triangle.2.circlepath") }
            }
        } else if let kit = model.kit {
            SignInView(kit: kit)
        } else {
            Text(model.error ?? "")
        }
    }
}
