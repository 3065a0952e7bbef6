package cn.gridpatrol.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
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
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.currentBackStackEntryAsState
import androidx.navigation.compose.rememberNavController
import cn.gridpatrol.app.ui.ChecklistScreen
import cn.gridpatrol.app.ui.DueScreen
import cn.gridpatrol.app.ui.HazardDetailScreen
import cn.gridpatrol.app.ui.HazardListScreen
import cn.gridpatrol.app.ui.ReportHazardScreen
import cn.gridpatrol.app.ui.SignInScreen
import cn.gridpatrol.app.ui.SyncScreen
import cn.gridpatrol.patrolkit.PatrolKit

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val kit = (application as GridPatrolApplication).kit
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
            composable("due") { DueScreen(kit, signedIn) { place -> nav.navigate("checklist/$place") } }
            composable("checklist/{place}") { entry ->
                val place = entry.arguments?.getString("place").orEmpty()
                ChecklistScreen(kit, signedIn, place, onReportOther = { nav.navigate("report/$place") }) {
                    nav.popBackStack()
                }
            }
            composable("report/{place}") { entry ->
                ReportHazardScreen(kit, signedIn, entry.arguments?.getString("place").orEmpty()) {
                    nav.popBackStack()
                }
            }
            composable("hazards") { HazardListScreen(kit, signedIn) { id -> nav.navigate("hazard/$id") } }
            composable("hazard/{id}") { entry ->
                HazardDetailScreen(kit, signedIn, entry.arguments?.getString("id").orEmpty())
            }
            composable("sync") { SyncScreen(kit, signedIn) { user = null } }
        }
    }
}
