package cn.gridpatrol.app

import android.content.Context
import android.net.ConnectivityManager
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import cn.gridpatrol.patrolkit.Outcome
import cn.gridpatrol.patrolkit.PatrolError
import java.util.concurrent.TimeUnit

/**
 * Syncs when a network is available: every few hours, and soon after work is recorded. A
 * network failure is retried with WorkManager's backoff; everything stays on the phone meanwhile.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val kit = (applicationContext as GridPatrolApplication).kit
        // Original photos wait for an unmetered network; records, thumbnails and display
        // copies go on any.
        val connectivity = applicationContext.getSystemService(ConnectivityManager::class.java)
        val unmetered = connectivity?.isActiveNetworkMetered == false
        return when (val outcome = kit.syncNow(originals = unmetered)) {
            is Outcome.Ok -> Result.success()
            is Outcome.Failed -> when (outcome.error) {
                is PatrolError.Network -> Result.retry()
                // Signed out or refused: the sync screen shows why; nothing to retry blindly.
                else -> Result.failure()
            }
        }
    }

    companion object {
        private val online = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<SyncWorker>(3, TimeUnit.HOURS).setConstraints(online).build()
            WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork("sync", ExistingPeriodicWorkPolicy.KEEP, request)
        }

        /** After a patrol or a report: sync as soon as there is a network. */
        fun syncSoon(context: Context) {
            val request = OneTimeWorkRequestBuilder<SyncWorker>().setConstraints(online).build()
            WorkManager.getInstance(context).enqueueUniqueWork("sync-soon", ExistingWorkPolicy.REPLACE, request)
        }
    }
}
