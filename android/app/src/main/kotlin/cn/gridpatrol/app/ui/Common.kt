package cn.gridpatrol.app.ui

import androidx.compose.material3.AlertDialog
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import cn.gridpatrol.patrolkit.Outcome
import cn.gridpatrol.patrolkit.PatrolError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

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

/**
 * A screen's saves, run one at a time in the order they were made (a fair lock), each reading
 * the screen as it is when its turn comes; 提交 and 放弃 go through it too, so they wait for
 * every save before them. The core's saves replace a draft's body, so out of order an older
 * save could put back older text.
 */
class SaveQueue(private val scope: CoroutineScope) {
    private val lock = Mutex()

    fun then(block: suspend () -> Unit) {
        scope.launch { lock.withLock { block() } }
    }
}

@Composable
fun rememberSaveQueue(): SaveQueue {
    val scope = rememberCoroutineScope()
    return remember(scope) { SaveQueue(scope) }
}

/** 放弃, asking first: [what] is deleted for good. */
@Composable
fun DiscardButton(question: String, what: String, onDiscard: () -> Unit) {
    var asking by remember { mutableStateOf(false) }
    TextButton(onClick = { asking = true }) { Text("放弃") }
    if (asking) {
        AlertDialog(
            onDismissRequest = { asking = false },
            title = { Text(question) },
            text = { Text(what) },
            confirmButton = {
                TextButton(onClick = {
                    asking = false
                    onDiscard()
                }) { Text("放弃") }
            },
            dismissButton = { TextButton(onClick = { asking = false }) { Text("继续填写") } },
        )
    }
}
