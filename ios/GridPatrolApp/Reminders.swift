import BackgroundTasks
import Foundation
import GridPatrolKit
import UserNotifications

/// Reminders from the phone's own records, with no server: a daily background refresh asks the
/// core what to say (`PatrolKit.notices`) and adds each notice to UNUserNotificationCenter under
/// the notice's key, so running again replaces instead of doubling. Every rule (one summary a
/// day, daytime only, an alert on a deadline's day, no nags) is the core's.
enum Reminders {
    static let task = "cn.gridpatrol.reminders"
    private static let lastSummaryKey = "reminders.lastSummaryOn"

    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: task, using: nil) { task in
            run(task as! BGAppRefreshTask)
        }
        UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]) { _, _ in }
        schedule()
    }

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: task)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 6 * 3600)
        try? BGTaskScheduler.shared.submit(request)
    }

    private static func run(_ task: BGAppRefreshTask) {
        schedule()
        guard let kit = AppModel.openKit() else {
            task.setTaskCompleted(success: false)
            return
        }
        let work = Task {
            await refresh(kit: kit)
            task.setTaskCompleted(success: true)
        }
        task.expirationHandler = { work.cancel() }
    }

    /// Asks the core and schedules what it says; also run after a patrol or a sync.
    static func refresh(kit: PatrolKit) async {
        guard let user = try? await kit.syncStatus(user: nil).userId else { return }
        let defaults = UserDefaults.standard
        // Per person: on a shared phone each has their own day's summary.
        let shownKey = "\(lastSummaryKey).\(user)"
        guard let notices = try? await kit.notices(user: user, lastSummaryOn: defaults.string(forKey: shownKey))
        else { return }
        let center = UNUserNotificationCenter.current()
        // Alerts no longer asked for (a case closed early, another person signed in) go.
        let pending = await center.pendingNotificationRequests()
        center.removePendingNotificationRequests(
            withIdentifiers: pending.map(\.identifier).filter { $0.hasPrefix("deadline:") }
        )
        let now = Date().timeIntervalSince1970
        for n in notices {
            let content = UNMutableNotificationContent()
            content.title = n.title
            content.body = n.body
            if let hazard = n.hazardId { content.userInfo = ["hazard": hazard] }
            let wait = max(1, Double(n.atMs) / 1000 - now)
            let trigger = UNTimeIntervalNotificationTrigger(timeInterval: wait, repeats: false)
            try? await center.add(UNNotificationRequest(identifier: n.key, content: content, trigger: trigger))
            if n.key.hasPrefix("summary:") {
                defaults.set(String(n.key.dropFirst("summary:".count)), forKey: shownKey)
            }
        }
    }
}
