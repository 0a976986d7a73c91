package io.mizan.sample.android

import android.app.Application
import io.mizan.sample.ShopSession
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.async

/**
 * Holds the one [ShopSession] of the app's process. An engine locks its store, so it belongs to the
 * Application, not to an Activity: recreating an Activity (a rotation) must not open a second one.
 */
class SampleApplication : Application() {
    private val scope: CoroutineScope = MainScope()

    /** Opened once, off the main thread, the first time a screen asks for it. */
    lateinit var session: Deferred<ShopSession>
        private set

    override fun onCreate() {
        super.onCreate()
        session = scope.async {
            ShopSession.open(
                dataDir = noBackupFilesDir,
                keyProvider = KeystoreKeyProvider(this@SampleApplication),
                trustedPackKey = assets.open("catalog.pub").use { it.readBytes() },
                pack = assets.open("catalog.pack").use { it.readBytes() },
            )
        }
    }
}
