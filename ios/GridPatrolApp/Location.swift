import CoreLocation
import GridPatrolFFI

/// A location for evidence, never a gate: one fix from Core Location within a few seconds. No
/// permission, no signal or the time running out gives nil, which the core records as no fix;
/// the patrol goes on either way. A simulated location (iOS 15+) travels as the mock flag.
@MainActor
final class Location: NSObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: CheckedContinuation<CLLocation?, Never>?

    static func currentFix(timeout: TimeInterval = 6) async -> GpsFix? {
        let one = Location()
        return await one.fix(timeout: timeout)
    }

    private func fix(timeout: TimeInterval) async -> GpsFix? {
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyNearestTenMeters
        switch manager.authorizationStatus {
        case .notDetermined: manager.requestWhenInUseAuthorization()
        case .denied, .restricted: return nil
        default: break
        }
        let location: CLLocation? = await withCheckedContinuation { continuation in
            waiting = continuation
            manager.requestLocation()
            Task { @MainActor in
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
                self.finish(nil)
            }
        }
        guard let location else { return nil }
        var mock = false
        if #available(iOS 15.0, *) { mock = location.sourceInformation?.isSimulatedBySoftware ?? false }
        return GpsFix(
            latitude: location.coordinate.latitude,
            longitude: location.coordinate.longitude,
            accuracyM: location.horizontalAccuracy >= 0 ? location.horizontalAccuracy : nil,
            mock: mock
        )
    }

    private func finish(_ location: CLLocation?) {
        manager.stopUpdatingLocation()
        waiting?.resume(returning: location)
        waiting = nil
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        let last = locations.last
        Task { @MainActor in self.finish(last) }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        Task { @MainActor in self.finish(nil) }
    }
}
