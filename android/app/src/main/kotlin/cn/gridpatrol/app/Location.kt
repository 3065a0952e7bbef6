package cn.gridpatrol.app

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.Build
import androidx.core.content.ContextCompat
import androidx.core.location.LocationManagerCompat
import cn.gridpatrol.ffi.GpsFix
import com.google.android.gms.common.ConnectionResult
import com.google.android.gms.common.GoogleApiAvailability
import com.google.android.gms.location.LocationServices
import com.google.android.gms.location.Priority
import com.google.android.gms.tasks.CancellationTokenSource
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import kotlin.coroutines.resume

/**
 * A location for evidence, never a gate: one current fix, from Fused Location where Google Play
 * services are present and from the system's LocationManager where they are not (most phones
 * sold in China), within a few seconds. No permission, no signal or a timeout gives null, which
 * the core records as no fix; the patrol goes on either way. The mock-location flag travels
 * with the fix for the township to see.
 */
object Location {
    suspend fun currentFix(context: Context, timeoutMs: Long = 6_000): GpsFix? {
        val granted = listOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
            .any { ContextCompat.checkSelfPermission(context, it) == PackageManager.PERMISSION_GRANTED }
        if (!granted) return null
        val location = withTimeoutOrNull(timeoutMs) { fused(context) ?: platform(context) } ?: return null
        return GpsFix(
            latitude = location.latitude,
            longitude = location.longitude,
            accuracyM = if (location.hasAccuracy()) location.accuracy.toDouble() else null,
            mock = isMock(location),
        )
    }

    private fun isMock(location: android.location.Location): Boolean =
        if (Build.VERSION.SDK_INT >= 31) location.isMock else @Suppress("DEPRECATION") location.isFromMockProvider

    @SuppressLint("MissingPermission")
    private suspend fun fused(context: Context): android.location.Location? {
        val play = GoogleApiAvailability.getInstance().isGooglePlayServicesAvailable(context)
        if (play != ConnectionResult.SUCCESS) return null
        val client = LocationServices.getFusedLocationProviderClient(context)
        val cancel = CancellationTokenSource()
        return suspendCancellableCoroutine { cont ->
            client.getCurrentLocation(Priority.PRIORITY_HIGH_ACCURACY, cancel.token)
                .addOnSuccessListener { cont.resume(it) }
                .addOnFailureListener { cont.resume(null) }
            cont.invokeOnCancellation { cancel.cancel() }
        }
    }

    @SuppressLint("MissingPermission")
    private suspend fun platform(context: Context): android.location.Location? {
        val manager = context.getSystemService(LocationManager::class.java) ?: return null
        // The system's fused provider where there is one (Android 12+), else the network's (quick
        // indoors), else satellites.
        val providers = buildList {
            if (Build.VERSION.SDK_INT >= 31) add(LocationManager.FUSED_PROVIDER)
            add(LocationManager.NETWORK_PROVIDER)
            add(LocationManager.GPS_PROVIDER)
        }
        val provider = providers.firstOrNull { manager.isProviderEnabled(it) } ?: return null
        val cancel = androidx.core.os.CancellationSignal()
        return suspendCancellableCoroutine { cont ->
            LocationManagerCompat.getCurrentLocation(
                manager, provider, cancel, ContextCompat.getMainExecutor(context),
            ) { cont.resume(it) }
            cont.invokeOnCancellation { cancel.cancel() }
        }
    }
}
