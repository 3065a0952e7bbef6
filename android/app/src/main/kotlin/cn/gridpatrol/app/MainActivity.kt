package cn.gridpatrol.app

import android.Manifest
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Icon
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Refresh
import androidx.compose.material.icons.filled.Warning
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.currentBackStackEntryAsState
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument
import cn.gridpatrol.app.ui.ActivityScreen
import cn.gridpatrol.app.ui.AddPlaceScreen
import cn.gridpatrol.app.ui.EditResponsibleScreen
import cn.gridpatrol.app.ui.ChecklistScreen
import cn.gridpatrol.app.ui.DueScreen
import cn.gridpatrol.app.ui.EquipmentCheckScreen
import cn.gridpatrol.app.ui.FireScreen
import cn.gridpatrol.app.ui.GroupEditScreen
import cn.gridpatrol.app.ui.HazardDetailScreen
import cn.gridpatrol.app.ui.HazardListScreen
import cn.gridpatrol.app.ui.LetterScreen
import cn.gridpatrol.app.ui.ReportHazardScreen
import cn.gridpatrol.app.ui.SignInScreen
import cn.gridpatrol.app.ui.StationScreen
import cn.gridpatrol.app.ui.SyncScreen
import cn.gridpatrol.ffi.DraftKind
import cn.gridpatrol.patrolkit.PatrolKit

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val kit = (application as GridPatrolApplication).kit
        // Location is evidence and reminders are local notifications: both asked for once, and
        // the app works the same when either is refused.
        val wanted = buildList {
            add(Manifest.permission.ACCESS_FINE_LOCATION)
            add(Manifest.permission.ACCESS_COARSE_LOCATION)
            if (Build.VERSION.SDK_INT >= 33) add(Manifest.permission.POST_NOTIFICATIONS)
        }
        registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) {}
            .launch(wanted.toTypedArray())
        setContent { MaterialTheme { GridPatrol(kit) } }
    }
}

private val tabs = listOf(
    Triple("due", "今日巡查", Icons.Filled.Home),
    Triple("hazards", "隐患", Icons.Filled.Warning),
    Triple("sync", "同步", Icons.Filled.Refresh),
)

@Composable
fun GridPatrol(kit: PatrolKit) {
    var user by remember { mutableStateOf<String?>(null) }
    var checked by remember { mutableStateOf(false) }
    LaunchedEffect(Unit) {
        user = kit.syncStatus(null).getOrNull()?.userId
        checked = true
    }
    if (!checked) return
    val signedIn = user
    if (signedIn == null) {
        SignInScreen(kit) { user = it }
        return
    }
    val nav = rememberNavController()
    val current by nav.currentBackStackEntryAsState()
    Scaffold(
        bottomBar = {
            NavigationBar {
                tabs.forEach { (route, label, icon) ->
                    NavigationBarItem(
                        selected = current?.destination?.route == route,
                        onClick = { nav.navigate(route) { launchSingleTop = true } },
                        icon = { Icon(icon, contentDescription = label) },
                        label = { Text(label) },
                    )
                }
            }
        },
    ) { padding ->
        NavHost(nav, startDestination = "due", modifier = Modifier.padding(padding)) {
            composable("due") {
                DueScreen(
                    kit, signedIn,
                    onOpen = { place -> nav.navigate("checklist/$place") },
                    onResume = { d ->
                        when (d.kind) {
                            DraftKind.PATROL -> nav.navigate("checklist/${d.placeId}")
                            DraftKind.HAZARD -> nav.navigate("report/${d.placeId}?draft=${d.draftId}")
                            DraftKind.ACTIVITY -> nav.navigate("activity?draft=${d.draftId}")
                        }
                    },
                    onActivity = { nav.navigate("activity") },
                    onAddPlace = { nav.navigate("place/new") },
                    onFire = { nav.navigate("fire") },
                    onStations = { nav.navigate("stations") },
                )
            }
            composable("stations") {
                StationScreen(
                    kit, signedIn,
                    onCheck = { group -> nav.navigate("station/$group/check") },
                    onEdit = { group -> nav.navigate(if (group == null) "station/new" else "station/$group/edit") },
                )
            }
            composable("station/new") { GroupEditScreen(kit, signedIn, null) { nav.popBackStack() } }
            composable("station/{group}/edit") { entry ->
                GroupEditScreen(kit, signedIn, entry.arguments?.getString("group")) { nav.popBackStack() }
            }
            composable("station/{group}/check") { entry ->
                EquipmentCheckScreen(kit, signedIn, entry.arguments?.getString("group").orEmpty()) { nav.popBackStack() }
            }
            composable("fire") { FireScreen(kit, signedIn) { nav.popBackStack() } }
            composable("place/{place}/letter") { entry ->
                LetterScreen(kit, signedIn, entry.arguments?.getString("place").orEmpty()) { nav.popBackStack() }
            }
            composable("place/new") {
                AddPlaceScreen(kit, signedIn) { place ->
                    nav.popBackStack()
                    nav.navigate("checklist/$place")
                }
            }
            composable("place/{place}/responsible") { entry ->
                EditResponsibleScreen(kit, signedIn, entry.arguments?.getString("place").orEmpty()) { nav.popBackStack() }
            }
            composable("checklist/{place}") { entry ->
                val place = entry.arguments?.getString("place").orEmpty()
                ChecklistScreen(
                    kit, signedIn, place,
                    onReportOther = { nav.navigate("report/$place") },
                    onEditResponsible = { nav.navigate("place/$place/responsible") },
                    onLetter = { nav.navigate("place/$place/letter") },
                ) { nav.popBackStack() }
            }
            val draftArg = navArgument("draft") {
                type = NavType.StringType
                nullable = true
                defaultValue = null
            }
            composable("report/{place}?draft={draft}", arguments = listOf(draftArg)) { entry ->
                val args = entry.arguments
                ReportHazardScreen(kit, signedIn, args?.getString("place").orEmpty(), args?.getString("draft")) {
                    nav.popBackStack()
                }
            }
            composable("activity?draft={draft}", arguments = listOf(draftArg)) { entry ->
                ActivityScreen(kit, signedIn, entry.arguments?.getString("draft")) { nav.popBackStack() }
            }
            composable("hazards") { HazardListScreen(kit, signedIn) { id -> nav.navigate("hazard/$id") } }
            composable("hazard/{id}") { entry ->
                HazardDetailScreen(kit, signedIn, entry.arguments?.getString("id").orEmpty())
            }
            composable("sync") { SyncScreen(kit, signedIn) { user = null } }
        }
    }
}
