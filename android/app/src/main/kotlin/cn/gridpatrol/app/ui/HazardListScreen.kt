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
import cn.gridpatrol.ffi.HazardSummary
import cn.gridpatrol.ffi.levelZh
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit

/** The hazards in the user's area, newest first, overdue ones saying so. */
@Composable
fun HazardListScreen(kit: PatrolKit, user: String, onOpen: (String) -> Unit) {
    var hazards by remember { mutableStateOf<List<HazardSummary>>(emptyList()) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    LaunchedEffect(user) { kit.hazards(user).orReport { error = it }?.let { hazards = it } }
    ErrorLine(error)
    LazyColumn {
        items(hazards, key = { it.id }) { h ->
            val overdue = h.daysOverdue?.takeIf { it > 0 }?.let { " · 逾期 $it 天" } ?: ""
            ListItem(
                headlineContent = { Text(h.categoryZh) },
                supportingContent = { Text("${h.statusZh} · ${levelZh(h.level)}$overdue") },
                trailingContent = { Text(h.deadline ?: "") },
                modifier = Modifier.clickable { onOpen(h.id) },
            )
        }
    }
}
