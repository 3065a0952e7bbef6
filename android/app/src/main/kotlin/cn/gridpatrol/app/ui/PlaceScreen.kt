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
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.Location
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.LetterInput
import cn.gridpatrol.ffi.LetterKind
import cn.gridpatrol.ffi.LetterKindChoice
import cn.gridpatrol.ffi.NewPlaceInput
import cn.gridpatrol.ffi.PlaceEdit
import cn.gridpatrol.ffi.PlaceTypeChoice
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

private val RISKS = listOf("高", "中", "低")

/**
 * 新增场所: a place found on patrol, registered in one of the worker's grids with where it is
 * (a fix if one comes; none is fine). It shows as 新增 until the village or township confirms it,
 * and is due for its first visit at once.
 */
@Composable
fun AddPlaceScreen(kit: PatrolKit, user: String, onDone: (String) -> Unit) {
    val context = LocalContext.current
    var grids by remember { mutableStateOf<List<String>>(emptyList()) }
    var types by remember { mutableStateOf<List<PlaceTypeChoice>>(emptyList()) }
    var grid by remember { mutableStateOf("") }
    var type by remember { mutableStateOf("") }
    var name by remember { mutableStateOf("") }
    var address by remember { mutableStateOf("") }
    var risk by remember { mutableStateOf("中") }
    var responsible by remember { mutableStateOf("") }
    var phone by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(user) {
        grids = kit.duePatrols(user).getOrNull().orEmpty().map { it.gridId }.distinct()
        grid = grids.firstOrNull().orEmpty()
        types = kit.placeTypes().getOrNull().orEmpty()
    }
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            grids.forEach { g -> FilterChip(grid == g, { grid = g }, label = { Text(g) }) }
        }
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            types.forEach { t -> FilterChip(type == t.code, { type = t.code }, label = { Text(t.zh) }) }
        }
        OutlinedTextField(name, { name = it }, label = { Text("场所名称") })
        OutlinedTextField(address, { address = it }, label = { Text("地址") })
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            RISKS.forEach { r -> FilterChip(risk == r, { risk = r }, label = { Text("${r}风险") }) }
        }
        OutlinedTextField(responsible, { responsible = it }, label = { Text("负责人") })
        OutlinedTextField(
            phone, { phone = it }, label = { Text("负责人电话（可不填）") },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Phone),
        )
        ErrorLine(error)
        Button(onClick = {
            scope.launch {
                val fix = Location.currentFix(context)
                val place = NewPlaceInput(
                    gridId = grid, placeType = type, name = name, address = address, riskLevel = risk,
                    responsibleName = responsible, responsiblePhone = phone.ifBlank { null },
                    latitude = fix?.latitude, longitude = fix?.longitude,
                )
                kit.addPlace(user, place).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone(it)
                }
            }
        }) { Text("登记") }
    }
}

/** 修改负责人: the place's responsible person and phone, as found on the visit. */
@Composable
fun EditResponsibleScreen(kit: PatrolKit, user: String, placeId: String, onDone: () -> Unit) {
    val context = LocalContext.current
    var responsible by remember { mutableStateOf("") }
    var phone by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedTextField(responsible, { responsible = it }, label = { Text("负责人") })
        OutlinedTextField(
            phone, { phone = it }, label = { Text("负责人电话") },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Phone),
        )
        ErrorLine(error)
        Button(onClick = {
            scope.launch {
                val edit = PlaceEdit(placeId, null, null, null, responsible, phone.ifBlank { null })
                kit.editPlace(user, edit).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone()
                }
            }
        }) { Text("保存") }
    }
}

/**
 * 责任书签订: the place's signed fire-safety responsibility letter or pledge, with the day it
 * was signed, who signed and photos of the paper. A letter counts for a year; the place's
 * checklist header says 未签订 or 已过期 while none is in force. The fields survive the camera
 * pushing the app out (rememberSaveable); 保存 records once.
 */
@Composable
fun LetterScreen(kit: PatrolKit, user: String, placeId: String, onDone: () -> Unit) {
    val context = LocalContext.current
    var kinds by remember { mutableStateOf<List<LetterKindChoice>>(emptyList()) }
    var kind by rememberSaveable { mutableStateOf(LetterKind.RESPONSIBILITY) }
    var signedOn by rememberSaveable { mutableStateOf("") }
    var signer by rememberSaveable { mutableStateOf("") }
    var note by rememberSaveable { mutableStateOf("") }
    // Photo hashes one a line: a plain string is what a saved instance state keeps for sure.
    var photos by rememberSaveable { mutableStateOf("") }
    var capture by rememberSaveable { mutableStateOf<String?>(null) }
    var saving by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(user) {
        kinds = kit.letterKinds().getOrNull().orEmpty().filter { it.ofPlace }
        if (signedOn.isEmpty()) signedOn = kit.today().getOrNull().orEmpty()
    }
    fun hashes() = photos.lines().filter { it.isNotBlank() }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val path = capture
        capture = null
        if (saved && path != null) {
            scope.launch { kit.addPhotoFile(path).orReport { error = it }?.let { photos = (hashes() + it).joinToString("\n") } }
        }
    }
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            kinds.forEach { k -> FilterChip(kind == k.kind, { kind = k.kind }, label = { Text(k.zh) }) }
        }
        OutlinedTextField(signedOn, { signedOn = it }, label = { Text("签订日期（如 2026-03-01）") })
        OutlinedTextField(signer, { signer = it }, label = { Text("签订人（场所负责人）") })
        OutlinedTextField(note, { note = it }, label = { Text("说明（可不填）") })
        OutlinedButton(onClick = {
            val (file, uri) = Photos.newCapture(context)
            capture = file.path
            camera.launch(uri)
        }) { Text("拍摄责任书（已拍 ${hashes().size} 张）") }
        ErrorLine(error)
        Button(enabled = !saving, onClick = {
            saving = true
            scope.launch {
                val letter = LetterInput(kind, placeId, null, signedOn.trim(), signer, note, hashes())
                kit.recordLetter(user, letter).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone()
                }
                saving = false
            }
        }) { Text("保存") }
    }
}
