package cn.gridpatrol.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.gridpatrol.ffi.ConflictItem
import cn.gridpatrol.ffi.RefusedOp
import cn.gridpatrol.ffi.progressZh
import cn.gridpatrol.ffi.verbZh
import cn.gridpatrol.patrolkit.Outcome
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import kotlinx.coroutines.launch

/**
 * 同步: what waits to be sent, when the last sync was, what the server refused (kept here with
 * its reason) and the conflicts this user's level is to sort out; sync now with progress.
 */
@Composable
fun SyncScreen(kit: PatrolKit, user: String, onSignedOut: () -> Unit) {
    val status by remember(user) { kit.syncStatusFlow(user) }.collectAsStateWithLifecycle(null)
    var progress by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    var refused by remember { mutableStateOf<List<RefusedOp>>(emptyList()) }
    var conflicts by remember { mutableStateOf<List<ConflictItem>>(emptyList()) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(status) {
        kit.refusedOps().getOrNull()?.let { refused = it }
        kit.conflicts(user).getOrNull()?.let { conflicts = it }
    }
    val time = remember { SimpleDateFormat("yyyy-MM-dd HH:mm", Locale.CHINA) }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        when (val s = status) {
            is Outcome.Ok -> {
                Text("待上传 ${s.value.pendingOps} 条")
                Text("上次同步 " + (s.value.lastSyncMs?.let { time.format(Date(it)) } ?: "从未"))
            }
            is Outcome.Failed -> ErrorLine(s.error)
            null -> {}
        }
        Button(onClick = {
            scope.launch {
                kit.syncNow(onProgress = { p -> progress = progressZh(p) }).orReport { error = it }
                    ?.let { progress = "已同步：上传 ${it.pushed}，下载 ${it.pulled}" }
            }
        }) { Text("立即同步") }
        Text(progress)
        ErrorLine(error)
        if (refused.isNotEmpty()) Text("被服务器拒绝（已保留在本机）", style = MaterialTheme.typography.titleSmall)
        refused.forEach { Text("${it.kind}：${it.zh}") }
        if (conflicts.isNotEmpty()) Text("需要处理的冲突", style = MaterialTheme.typography.titleSmall)
        conflicts.forEach { c ->
            Text("${c.actorId} ${verbZh(c.verb)} 与 ${c.rivalActorId ?: "-"} ${c.rivalVerb?.let(::verbZh) ?: ""}：${c.reasonZh}")
        }
        OutlinedButton(onClick = {
            scope.launch { kit.signOut().orReport { error = it }?.let { onSignedOut() } }
        }) { Text("退出登录") }
    }
}
