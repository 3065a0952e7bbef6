package cn.gridpatrol.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.EscalationCause
import cn.gridpatrol.ffi.HazardDetail
import cn.gridpatrol.ffi.OrgLevelCode
import cn.gridpatrol.ffi.Transition
import cn.gridpatrol.ffi.levelZh
import cn.gridpatrol.ffi.verbZh
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import java.io.File
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import kotlinx.coroutines.launch

/**
 * 隐患详情: the hazard's state, its timeline (an action that collided with another offline one is
 * shown struck through with the reason), and a button for each action this user may take now.
 */
@OptIn(ExperimentalLayoutApi::class)
@Composable
fun HazardDetailScreen(kit: PatrolKit, user: String, hazardId: String) {
    var detail by remember { mutableStateOf<HazardDetail?>(null) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    var acting by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(hazardId) { kit.hazard(user, hazardId).orReport { error = it }?.let { detail = it } }
    val d = detail ?: return ErrorLine(error)
    val time = remember { SimpleDateFormat("MM-dd HH:mm", Locale.CHINA) }
    LazyColumn(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        item {
            Text("${d.summary.categoryZh} · ${d.summary.statusZh}", style = MaterialTheme.typography.titleMedium)
            Text(d.description)
            d.summary.deadline?.let { Text("整改期限 $it") }
            d.escalationDueZh?.let { Text("应上报上级：$it", color = MaterialTheme.colorScheme.error) }
            ErrorLine(error)
            FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                d.allowed.forEach { verb -> Button(onClick = { acting = verb }) { Text(verbZh(verb)) } }
            }
        }
        items(d.timeline, key = { it.opId }) { e ->
            val line = "${time.format(Date(e.deviceTimeMs))} ${e.actorRoleZh} ${verbZh(e.verb)}"
            Column {
                Text(line)
                e.conflictZh?.let { Text("未生效：$it", color = MaterialTheme.colorScheme.error) }
            }
        }
    }
    acting?.let { verb ->
        TransitionDialog(verb, onCancel = { acting = null }) { t ->
            acting = null
            kit.transition(user, hazardId, t).orReport { error = it }?.let { detail = it }
        }
    }
}

/** Collects what an action needs (a text, a date, a verdict, a level, photos) and makes it. */
@Composable
private fun TransitionDialog(verb: String, onCancel: () -> Unit, onConfirm: suspend (Transition) -> Unit) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var text by remember { mutableStateOf("") }
    var second by remember { mutableStateOf("") }
    var day by remember { mutableStateOf("") }
    var yes by remember { mutableStateOf(true) }
    var level by remember { mutableStateOf(OrgLevelCode.VILLAGE) }
    val photos = remember { mutableStateListOf<String>() }
    var capture by remember { mutableStateOf<File?>(null) }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        capture?.takeIf { saved }?.let { photos += Photos.keep(it) }
    }
    val needsDay = verb in setOf("notify", "request_extension", "hand_back")
    val needsVerdict = verb in setOf("review", "decide_extension")
    val needsLevel = verb in setOf("escalate", "hand_back")
    val needsPhotos = verb in setOf("submit_rectification", "fix_on_spot")
    val secondLabel = mapOf("request_extension" to "临时措施", "refer" to "案件编号")[verb]
    AlertDialog(
        onDismissRequest = onCancel,
        title = { Text(verbZh(verb)) },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(text, { text = it }, label = { Text(if (verb == "notify") "整改责任人" else "说明") })
                secondLabel?.let { OutlinedTextField(second, { second = it }, label = { Text(it) }) }
                if (needsDay) OutlinedTextField(day, { day = it }, label = { Text("日期（年-月-日）") })
                if (needsVerdict) Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    FilterChip(yes, { yes = true }, label = { Text(if (verb == "review") "合格" else "同意") })
                    FilterChip(!yes, { yes = false }, label = { Text(if (verb == "review") "不合格" else "不同意") })
                }
                if (needsLevel) Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    OrgLevelCode.entries.forEach { l ->
                        FilterChip(level == l, { level = l }, label = { Text(levelZh(l)) })
                    }
                }
                if (needsPhotos) OutlinedButton(onClick = {
                    val (file, uri) = Photos.newCapture(context)
                    capture = file
                    camera.launch(uri)
                }) { Text("拍照（已拍 ${photos.size} 张）") }
            }
        },
        confirmButton = {
            TextButton(onClick = {
                val t = when (verb) {
                    "notify" -> Transition.Notify(text, day, "")
                    "start_rectification" -> Transition.StartRectification(text)
                    "submit_rectification" -> Transition.SubmitRectification(text, photos.toList())
                    "fix_on_spot" -> Transition.FixOnSpot(text, photos.getOrElse(0) { "" }, photos.getOrElse(1) { "" })
                    "review" -> Transition.Review(yes, text, null)
                    "request_extension" -> Transition.RequestExtension(text, day, second)
                    "decide_extension" -> Transition.DecideExtension(yes, text)
                    "escalate" -> Transition.Escalate(level, EscalationCause.BEYOND_POWER, text)
                    "hand_back" -> Transition.HandBack(level, text, day)
                    "joint_enforcement" -> Transition.JointEnforcement(text, "")
                    "refer" -> Transition.Refer(text, second, "")
                    "record_outcome" -> Transition.RecordOutcome(text)
                    "supervise" -> Transition.Supervise(text)
                    else -> Transition.Withdraw(text)
                }
                scope.launch {
                    onConfirm(t)
                    SyncWorker.syncSoon(context)
                }
            }) { Text("确定") }
        },
        dismissButton = { TextButton(onClick = onCancel) { Text("取消") } },
    )
}
