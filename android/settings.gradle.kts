// GridPatrol for Android: `patrolkit` (pure Kotlin over the generated uniffi bindings, tested on
// the JVM by tests/bindings.sh) and `app` (Jetpack Compose). Open this folder in Android Studio.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "GridPatrol"
include(":patrolkit", ":app")
