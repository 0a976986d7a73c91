// Gradle build of the Mizan Android library (AAR). The module is this directory itself.
// Native libraries and Kotlin bindings are produced first by scripts/build-android.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "mizan"
