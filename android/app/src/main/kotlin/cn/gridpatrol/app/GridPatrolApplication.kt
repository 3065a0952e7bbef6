package cn.gridpatrol.app

import android.app.Application
import cn.gridpatrol.ffi.DeviceConfig
import cn.gridpatrol.ffi.PatrolStore
import cn.gridpatrol.patrolkit.PatrolKit
import java.io.File

/** Holds the one store of this phone and keeps background sync and reminders scheduled. */
class GridPatrolApplication : Application() {
    /** Opened on first use, which the screens make from a coroutine on the IO dispatcher. */
    val kit: PatrolKit by lazy {
        PatrolKit(PatrolStore.open(File(filesDir, "gridpatrol.db").path, DeviceConfig(fixedClockMs = null)))
    }

    override fun onCreate() {
        super.onCreate()
        SyncWorker.schedule(this)
        ReminderWorker.schedule(this)
    }
}
