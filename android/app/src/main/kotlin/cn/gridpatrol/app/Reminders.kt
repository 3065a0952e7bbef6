package cn.gridpatrol.app

import android.Manifest
import android.app.NotificationChannel
import android.app.NotificationManager
import android.content.Context
import android.content.pm.PackageManager
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import cn.gridpatrol.patrolkit.Outcome
import java.util.concurrent.TimeUnit

/**
 * Reminders from the phone's own records, with no server: a daily job asks the core what to
 * say ([cn.gridpatrol.patrolkit.PatrolKit.notices]) and schedules each notice as a one-time job
 * under the notice's key, so running again replaces instead of doubling. Every rule (one summary
 * a day, daytime only, an alert on a deadline's day, no nags) is the core's.
 */
class ReminderWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val kit = (applicationContext as GridPatrolApplication).kit
        val user = kit.syncStatus(null).getOrNull()?.userId ?: return Result.success()
        val prefs = applicationContext.getSharedPreferences("reminders", Context.MODE_PRIVATE)
        // Per person: on a shared phone each has their own day's summary.
        val shownKey = "last_summary_on:$user"
        val notices = when (val o = kit.notices(user, prefs.getString(shownKey, null))) {
            is Outcome.Ok -> o.value
            is Outcome.Failed -> return Result.retry()
        }
        val work = WorkManager.getInstance(applicationContext)
        // Alerts no longer asked for (a case closed early, another person signed in) go.
        work.cancelAllWorkByTag(ALERT)
        for (n in notices) {
            val delay = (n.atMs - System.currentTimeMillis()).coerceAtLeast(0)
            val show = OneTimeWorkRequestBuilder<NoticeWorker>()
                .setInitialDelay(delay, TimeUnit.MILLISECONDS)
                .setInputData(workDataOf("key" to n.key, "title" to n.title, "body" to n.body, "hazard" to n.hazardId))
                .apply { if (n.key.startsWith("deadline:")) addTag(ALERT) }
                .build()
            work.enqueueUniqueWork("notice:${n.key}", ExistingWorkPolicy.REPLACE, show)
            if (n.key.startsWith("summary:")) {
                prefs.edit().putString(shownKey, n.key.removePrefix("summary:")).apply()
            }
        }
        return Result.success()
    }

    companion object {
        private const val ALERT = "deadline-alert"

        fun schedule(context: Context) {
            val daily = PeriodicWorkRequestBuilder<ReminderWorker>(1, TimeUnit.DAYS).build()
            WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork("reminders", ExistingPeriodicWorkPolicy.KEEP, daily)
        }

        /** After a sync or a recorded change: the day's notices may have changed. */
        fun refresh(context: Context) {
            WorkManager.getInstance(context).enqueueUniqueWork(
                "reminders-now", ExistingWorkPolicy.REPLACE, OneTimeWorkRequestBuilder<ReminderWorker>().build(),
            )
        }
    }
}

/** Shows one notice when its time comes. */
class NoticeWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val context = applicationContext
        val allowed = android.os.Build.VERSION.SDK_INT < 33 ||
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) ==
            PackageManager.PERMISSION_GRANTED
        // A job the system ran late (Doze) says nothing outside 08:30 to 20:00, China time.
        val china = java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("Asia/Shanghai"))
        val minute = china.get(java.util.Calendar.HOUR_OF_DAY) * 60 + china.get(java.util.Calendar.MINUTE)
        val daytime = minute in (8 * 60 + 30) until (20 * 60)
        if (!allowed || !daytime) return Result.success()
        if (android.os.Build.VERSION.SDK_INT >= 26) {
            context.getSystemService(NotificationManager::class.java)?.createNotificationChannel(
                NotificationChannel(CHANNEL, "巡查提醒", NotificationManager.IMPORTANCE_DEFAULT),
            )
        }
        val key = inputData.getString("key") ?: return Result.success()
        val notification = NotificationCompat.Builder(context, CHANNEL)
            .setSmallIcon(android.R.drawable.ic_dialog_info)
            .setContentTitle(inputData.getString("title"))
            .setContentText(inputData.getString("body"))
            .setStyle(NotificationCompat.BigTextStyle().bigText(inputData.getString("body")))
            .setAutoCancel(true)
            .build()
        NotificationManagerCompat.from(context).notify(key.hashCode(), notification)
        return Result.success()
    }

    companion object {
        const val CHANNEL = "reminders"
    }
}
