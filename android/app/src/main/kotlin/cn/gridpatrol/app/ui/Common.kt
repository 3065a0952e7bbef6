package cn.gridpatrol.app.ui

import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import cn.gridpatrol.patrolkit.Outcome
import cn.gridpatrol.patrolkit.PatrolError

/** A failure as the person reads it: the zh-CN message, never a stack trace. */
@Composable
fun ErrorLine(error: PatrolError?) {
    if (error != null) Text(error.zh, color = MaterialTheme.colorScheme.error)
}

/** The value of [o], or null after handing its error to [onError]. */
inline fun <T> Outcome<T>.orReport(onError: (PatrolError) -> Unit): T? = when (this) {
    is Outcome.Ok -> value
    is Outcome.Failed -> {
        onError(error)
        null
    }
}
