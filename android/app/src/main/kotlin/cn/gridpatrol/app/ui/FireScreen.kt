package cn.gridpatrol.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
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
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
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
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.FireCause
import cn.gridpatrol.ffi.FireCauseChoice
import cn.gridpatrol.ffi.FireInput
import cn.gridpatrol.ffi.PlaceChoice
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch
import java.text.ParseException
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/** Times are typed and read in China time, as every day in the core is. */
private fun chinaTime() = SimpleDateFormat("yyyy-MM-dd HH:mm", Locale.CHINA).apply {
    timeZone = TimeZone.getTimeZone("Asia/Shanghai")
    isLenient = false
}

/**
 * The instant typed, or 0 when it cannot be read: the core refuses 0 with its own message on
 * the date field, so the screen keeps no second wording of that rule.
 */
private fun typedMs(text: String): Long = try {
    chinaTime().parse(text.trim())?.time ?: 0L
} catch (e: ParseException) {
    0L
}

/** A typed count; one too long to read goes as the largest, which the core refuses with its range. */
private fun count(text: String): UInt = if (text.isEmpty()) 0u else text.toUIntOrNull() ?: UInt.MAX_VALUE

private fun yuan(text: String): ULong = if (text.isEmpty()) 0uL else text.toULongOrNull() ?: ULong.MAX_VALUE

/**
 * 火灾登记 (village leaders, the township, the brigade; 今日巡查 offers it only to them): when a
 * fire broke out, where (a registered place of the grid, or an address), the cause, deaths,
 * injuries, direct loss and whether the brigade attended, with photos. Recorded once; a
 * correction is a new entry. The fields survive the camera pushing the app out.
 */
@Composable
fun FireScreen(kit: PatrolKit, user: String, onDone: () -> Unit) {
    val context = LocalContext.current
    var places by remember { mutableStateOf<List<PlaceChoice>>(emptyList()) }
    var causes by remember { mutableStateOf<List<FireCauseChoice>>(emptyList()) }
    var grid by rememberSaveable { mutableStateOf("") }
    var place by rememberSaveable { mutableStateOf<String?>(null) }
    var address by rememberSaveable { mutableStateOf("") }
    var at by rememberSaveable { mutableStateOf(chinaTime().format(Date())) }
    var cause by rememberSaveable { mutableStateOf(FireCause.UNKNOWN) }
    var deaths by rememberSaveable { mutableStateOf("0") }
    var injuries by rememberSaveable { mutableStateOf("0") }
    var loss by rememberSaveable { mutableStateOf("") }
    var brigade by rememberSaveable { mutableStateOf(false) }
    var note by rememberSaveable { mutableStateOf("") }
    // Photo hashes one a line: a plain string is what a saved instance state keeps for sure.
    var photos by rememberSaveable { mutableStateOf("") }
    var capture by rememberSaveable { mutableStateOf<String?>(null) }
    var saving by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(user) {
        places = kit.places(user).orReport { error = it }.orEmpty()
        causes = kit.fireCauses().getOrNull().orEmpty()
        if (grid.isEmpty()) grid = places.firstOrNull()?.gridId.orEmpty()
    }
    fun hashes() = photos.lines().filter { it.isNotBlank() }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val path = capture
        capture = null
        if (saved && path != null) {
            scope.launch { kit.addPhotoFile(path).orReport { error = it }?.let { photos = (hashes() + it).joinToString("\n") } }
        }
    }
    val number = KeyboardOptions(keyboardType = KeyboardType.Number)
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedTextField(at, { at = it }, label = { Text("起火时间（如 2026-11-30 21:40）") })
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            places.map { it.gridId }.distinct().forEach { g ->
                FilterChip(grid == g, { grid = g; place = null }, label = { Text(g) })
            }
        }
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            FilterChip(place == null, { place = null }, label = { Text("未登记场所") })
            places.filter { it.gridId == grid }.forEach { p ->
                FilterChip(place == p.placeId, { place = p.placeId }, label = { Text(p.name) })
            }
        }
        OutlinedTextField(
            address, { address = it },
            label = { Text(if (place == null) "起火地址" else "起火地址（可不填，默认场所地址）") },
        )
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            causes.forEach { c -> FilterChip(cause == c.cause, { cause = c.cause }, label = { Text(c.zh) }) }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(
                deaths, { deaths = it.filter(Char::isDigit) }, label = { Text("死亡（人）") },
                keyboardOptions = number, modifier = Modifier.weight(1f),
            )
            OutlinedTextField(
                injuries, { injuries = it.filter(Char::isDigit) }, label = { Text("受伤（人）") },
                keyboardOptions = number, modifier = Modifier.weight(1f),
            )
        }
        OutlinedTextField(
            loss, { loss = it.filter(Char::isDigit) }, label = { Text("直接财产损失（元）") }, keyboardOptions = number,
        )
        Row(verticalAlignment = Alignment.CenterVertically) {
            Checkbox(brigade, { brigade = it })
            Text("消防救援队伍到场")
        }
        OutlinedTextField(note, { note = it }, label = { Text("简要经过（可不填）") }, minLines = 2)
        OutlinedButton(onClick = {
            val (file, uri) = Photos.newCapture(context)
            capture = file.path
            camera.launch(uri)
        }) { Text("拍照（已拍 ${hashes().size} 张）") }
        ErrorLine(error)
        Button(enabled = !saving && grid.isNotEmpty(), onClick = {
            saving = true
            scope.launch {
                val fire = FireInput(
                    gridId = grid, placeId = place, address = address, occurredAtMs = typedMs(at), cause = cause,
                    deaths = count(deaths), injuries = count(injuries), lossYuan = yuan(loss),
                    brigadeAttended = brigade, note = note, photos = hashes(),
                )
                kit.recordFire(user, fire).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone()
                }
                saving = false
            }
        }) { Text("保存") }
    }
}
