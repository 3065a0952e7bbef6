package cn.gridpatrol.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.ListItem
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import cn.gridpatrol.ffi.DuePatrol
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit

/** 今日巡查: places due for a patrol, most overdue first; tap one to run its checklist. */
@Composable
fun DueScreen(kit: PatrolKit, user: String, onOpen: (String) -> Unit) {
    var due by remember { mutableStateOf<List<DuePatrol>>(emptyList()) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    LaunchedEffect(user) { kit.duePatrols(user).orReport { error = it }?.let { due = it } }
    ErrorLine(error)
    LazyColumn {
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
