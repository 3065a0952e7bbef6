package cn.gridpatrol.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.EquipmentInput
import cn.gridpatrol.ffi.GroupInput
import cn.gridpatrol.ffi.GroupKind
import cn.gridpatrol.ffi.GroupKindChoice
import cn.gridpatrol.ffi.GroupMember
import cn.gridpatrol.ffi.OrgChoice
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * Rows of text as typed, in lists a saved instance state keeps: a member is (name, duty,
 * account), an item (key, kind, count, check every days, expires on); "" where there is none.
 */
private typealias Rows = ArrayList<ArrayList<String>>

private fun Rows.edited(row: Int, col: Int, value: String): Rows =
    Rows(mapIndexed { i, r -> if (i == row) ArrayList(r).apply { this[col] = value } else r })

private fun Rows.plusRow(vararg cells: String): Rows = Rows(this + listOf(arrayListOf(*cells)))

private fun Rows.minusRow(row: Int): Rows = Rows(filterIndexed { i, _ -> i != row })

/** A typed count; one too long to read goes as the largest, which the core refuses with its range. */
private fun typedCount(text: String): UInt = if (text.isEmpty()) 0u else text.toUIntOrNull() ?: UInt.MAX_VALUE

/**
 * 消防站登记 (village leaders and the township): a new station, team or committee for one of
 * the user's areas, or one of theirs edited ([groupId]); name, members with their duty, duty
 * roster and, for a station or team, its equipment with each item's check cycle and expiry.
 * Sent whole: a member or item deleted here is gone from the record, and an item keeps its key
 * (so its checks) however its text changes.
 */
@Composable
fun GroupEditScreen(kit: PatrolKit, user: String, groupId: String?, onDone: () -> Unit) {
    val context = LocalContext.current
    var kinds by remember { mutableStateOf<List<GroupKindChoice>>(emptyList()) }
    var orgs by remember { mutableStateOf<List<OrgChoice>>(emptyList()) }
    var kind by rememberSaveable { mutableStateOf(GroupKind.MICRO_STATION) }
    var org by rememberSaveable { mutableStateOf("") }
    var name by rememberSaveable { mutableStateOf("") }
    var roster by rememberSaveable { mutableStateOf("") }
    var active by rememberSaveable { mutableStateOf(true) }
    var members by rememberSaveable { mutableStateOf(Rows()) }
    var items by rememberSaveable { mutableStateOf(Rows()) }
    // An edit loads the group once, not over what was typed before a rotation.
    var loaded by rememberSaveable { mutableStateOf(groupId == null) }
    var saving by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(user, groupId) {
        kinds = kit.groupKinds().getOrNull().orEmpty()
        orgs = kit.userOrgs(user).orReport { error = it }.orEmpty()
        if (org.isEmpty()) org = orgs.firstOrNull()?.orgId.orEmpty()
        if (!loaded) {
            userGroups(kit, user) { error = it }.firstOrNull { it.groupId == groupId }?.let { g ->
                kind = g.kind
                org = g.orgId
                name = g.name
                roster = g.roster
                active = g.active
                members = Rows(g.members.map { arrayListOf(it.name, it.duty, it.userId.orEmpty()) })
                items = Rows(
                    g.equipment.map {
                        arrayListOf(it.key, it.kind, it.count.toString(), it.checkEveryDays.toString(), it.expiresOn.orEmpty())
                    },
                )
                loaded = true
            }
        }
    }
    val keeps = kinds.firstOrNull { it.kind == kind }?.keepsEquipment ?: true
    val number = KeyboardOptions(keyboardType = KeyboardType.Number)
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        if (groupId == null) {
            Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                kinds.forEach { k -> FilterChip(kind == k.kind, { kind = k.kind }, label = { Text(k.zh) }) }
            }
            Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                orgs.forEach { o -> FilterChip(org == o.orgId, { org = o.orgId }, label = { Text(o.name) }) }
            }
        } else {
            val kindZh = kinds.firstOrNull { it.kind == kind }?.zh.orEmpty()
            Text("$kindZh · ${orgs.firstOrNull { it.orgId == org }?.name ?: org}")
        }
        OutlinedTextField(name, { name = it }, label = { Text("名称（如：东沟村微型消防站）") })
        OutlinedTextField(roster, { roster = it }, label = { Text("值班安排（可不填）") }, minLines = 2)
        Text("成员", style = MaterialTheme.typography.titleSmall)
        members.forEachIndexed { i, m ->
            Row(horizontalArrangement = Arrangement.spacedBy(6.dp), verticalAlignment = Alignment.CenterVertically) {
                OutlinedTextField(m[0], { members = members.edited(i, 0, it) }, label = { Text("姓名") }, modifier = Modifier.weight(1f))
                OutlinedTextField(m[1], { members = members.edited(i, 1, it) }, label = { Text("职务") }, modifier = Modifier.weight(1f))
                TextButton(onClick = { members = members.minusRow(i) }) { Text("删除") }
            }
        }
        TextButton(onClick = { members = members.plusRow("", "", "") }) { Text("添加成员") }
        if (keeps) {
            Text("器材", style = MaterialTheme.typography.titleSmall)
            items.forEachIndexed { i, e ->
                Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                    OutlinedTextField(e[1], { items = items.edited(i, 1, it) }, label = { Text("器材") }, modifier = Modifier.weight(2f))
                    OutlinedTextField(
                        e[2], { items = items.edited(i, 2, it.filter(Char::isDigit)) }, label = { Text("数量") },
                        keyboardOptions = number, modifier = Modifier.weight(1f),
                    )
                    OutlinedTextField(
                        e[3], { items = items.edited(i, 3, it.filter(Char::isDigit)) }, label = { Text("每几天查") },
                        keyboardOptions = number, modifier = Modifier.weight(1f),
                    )
                }
                Row(horizontalArrangement = Arrangement.spacedBy(6.dp), verticalAlignment = Alignment.CenterVertically) {
                    OutlinedTextField(
                        e[4], { items = items.edited(i, 4, it) }, label = { Text("有效期至（可不填，如 2027-06-30）") },
                        modifier = Modifier.weight(1f),
                    )
                    TextButton(onClick = { items = items.minusRow(i) }) { Text("删除") }
                }
            }
            TextButton(onClick = { items = items.plusRow("", "", "1", "30", "") }) { Text("添加器材") }
        }
        if (groupId != null) {
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(active, { active = it })
                Text("在用（取消即撤销）")
            }
        }
        ErrorLine(error)
        Button(enabled = !saving && org.isNotEmpty() && loaded, onClick = {
            saving = true
            scope.launch {
                val group = GroupInput(
                    groupId = groupId, kind = kind, orgId = org, name = name,
                    members = members.map { GroupMember(it[0], it[2].ifEmpty { null }, it[1]) },
                    roster = roster,
                    equipment = if (!keeps) emptyList() else items.map {
                        EquipmentInput(it[0].ifEmpty { null }, it[1], typedCount(it[2]), typedCount(it[3]), it[4].trim().ifEmpty { null })
                    },
                    active = active,
                )
                kit.putGroup(user, group).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone()
                }
                saving = false
            }
        }) { Text("保存") }
    }
}
