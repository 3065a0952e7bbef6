package cn.gridpatrol.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.gridpatrol.ffi.DraftKind
import cn.gridpatrol.ffi.DraftSummary
import cn.gridpatrol.ffi.DuePatrol
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale

/**
 * 今日巡查: what waits today in one line, the work begun and not yet submitted (续填: a visit, a
 * hazard report or an activity log, kept on the phone however the app was closed), then the
 * places due for a patrol, most overdue first. 火灾登记 shows for the roles that record fires, and
 * 消防站 (with the equipment due for its check) to the roles that keep stations and to whoever
 * has one in their area.
 */
@Composable
fun DueScreen(
    kit: PatrolKit,
    user: String,
    onOpen: (String) -> Unit,
    onResume: (DraftSummary) -> Unit,
    onActivity: () -> Unit,
    onAddPlace: () -> Unit,
    onFire: () -> Unit,
    onStations: () -> Unit,
) {
    var due by remember { mutableStateOf<List<DuePatrol>>(emptyList()) }
    var drafts by remember { mutableStateOf<List<DraftSummary>>(emptyList()) }
    var summary by remember { mutableStateOf<String?>(null) }
    var mayRecordFire by remember { mutableStateOf(false) }
    var equipmentDue by remember { mutableStateOf(0u) }
    var showStations by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    LaunchedEffect(user) {
        val counts = kit.reminders(user).orReport { error = it }
        summary = counts?.summary
        equipmentDue = counts?.equipmentDue ?: 0u
        drafts = kit.drafts(user).orReport { error = it }.orEmpty()
        due = kit.duePatrols(user).orReport { error = it }.orEmpty()
        mayRecordFire = kit.mayRecordFire(user).getOrNull() == true
        showStations = equipmentDue > 0u || kit.mayKeepGroups(user).getOrNull() == true ||
            userGroups(kit, user) {}.isNotEmpty()
    }
    ErrorLine(error)
    val time = SimpleDateFormat("M月d日 HH:mm", Locale.CHINA)
    LazyColumn {
        summary?.let { s -> item { Text(s, Modifier.padding(12.dp), style = MaterialTheme.typography.bodyMedium) } }
        if (drafts.isNotEmpty()) item { Text("续填", Modifier.padding(12.dp), style = MaterialTheme.typography.titleSmall) }
        items(drafts, key = { it.draftId }) { d ->
            val what = when (d.kind) {
                DraftKind.PATROL -> "巡查（已答 ${d.answered} 项）"
                DraftKind.HAZARD -> "隐患上报"
                DraftKind.ACTIVITY -> "活动登记"
            }
            ListItem(
                headlineContent = { Text(d.placeName ?: what) },
                supportingContent = { Text("$what · 上次保存 ${time.format(Date(d.updatedAtMs))}") },
                modifier = Modifier.clickable { onResume(d) },
            )
        }
        item {
            Row(Modifier.horizontalScroll(rememberScrollState())) {
                TextButton(onClick = onActivity) { Text("登记宣传 / 培训 / 演练") }
                TextButton(onClick = onAddPlace) { Text("新增场所") }
                if (mayRecordFire) TextButton(onClick = onFire) { Text("火灾登记") }
                if (showStations) {
                    TextButton(onClick = onStations) {
                        Text(if (equipmentDue > 0u) "消防站（器材待检查 $equipmentDue 项）" else "消防站")
                    }
                }
            }
        }
        items(due, key = { it.placeId }) { p ->
            ListItem(
                headlineContent = { Text(p.name) },
                supportingContent = { Text("${p.placeTypeZh} · ${p.riskZh} · ${p.address}") },
                trailingContent = { Text(if (p.daysOverdue > 0) "逾期 ${p.daysOverdue} 天" else "今日") },
                modifier = Modifier.clickable { onOpen(p.placeId) },
            )
        }
    }
}
