package io.mizan.sample

import io.mizan.EngineConfig
import io.mizan.Event
import io.mizan.EventKind
import io.mizan.Feedback
import io.mizan.KeyProvider
import io.mizan.NotInterestedReason
import io.mizan.Purposes
import io.mizan.RecommendRequest
import io.mizan.SuspendingEngine
import java.io.File

/**
 * What a shop's screens need from Mizan, as the sample app wires it. Plain Kotlin over
 * [SuspendingEngine], so it runs (and is tested) on the JVM as it runs on a phone:
 *
 * - one engine for the app's lifetime ([android.SampleApplication] holds this session);
 * - every product screen view is recorded, with its dwell time;
 * - lists are ranked off the main thread (the engine's calls run on Dispatchers.IO);
 * - "why this?" and "not interested" on every item;
 * - a consent toggle: switching personalisation off erases what was recorded.
 */
class ShopSession private constructor(private val engine: SuspendingEngine, private val clock: () -> Long) : AutoCloseable {
    /** One row of a "for you" list. */
    data class Row(val itemId: String, val title: String, val because: String)

    companion object {
        /** The privacy policy version the consent screen shows. */
        const val POLICY_VERSION = "privacy-2026-03"

        /**
         * Opens the store in [dataDir] (use `Context.noBackupFilesDir`) and loads the catalogue pack the
         * app ships or downloaded, signed by the backend's key [trustedPackKey].
         */
        suspend fun open(
            dataDir: File,
            keyProvider: KeyProvider,
            trustedPackKey: ByteArray,
            pack: ByteArray,
            clock: () -> Long = System::currentTimeMillis,
        ): ShopSession {
            val config = EngineConfig(dataDir = File(dataDir, "mizan").path, trustedPackKeys = listOf(trustedPackKey))
            val engine = SuspendingEngine.open(config, keyProvider)
            engine.loadCatalog(pack)
            return ShopSession(engine, clock)
        }
    }

    /** Whether the person agreed to personalisation (nothing is recorded otherwise). */
    suspend fun personalised(): Boolean = engine.inspect().personalised

    /** The consent toggle: on grants personalisation; off withdraws it and erases every recorded event. */
    suspend fun setPersonalisation(enabled: Boolean) =
        engine.setConsent(Purposes.PERSONALISATION, enabled, POLICY_VERSION, eraseOnWithdraw = !enabled)

    /** A product screen was shown for [dwellSecs] seconds. */
    suspend fun viewed(itemId: String, dwellSecs: Double) {
        engine.record(listOf(Event(itemId = itemId, kind = EventKind.VIEW, timestampMs = clock(), dwellSecs = dwellSecs)))
    }

    /** The "for you" list: each item with the strongest reason it is there. */
    suspend fun forYou(count: Int = 10): List<Row> =
        engine.recommend(RecommendRequest(k = count, nowMs = clock())).items.map { Row(it.itemId, it.title, it.reasons.first().text) }

    /** "Why this?": every reason, strongest first. */
    suspend fun whyThis(itemId: String): List<String> = engine.explain(itemId, clock()).reasons.map { it.text }

    /** "Not interested": hidden from now on (fading back after 30 days). */
    suspend fun notInterested(itemId: String) {
        engine.feedback(Feedback(notInterested = listOf(itemId), reason = NotInterestedReason.NOT_RELEVANT, timestampMs = clock()))
    }

    /** Syncs, snapshots and unlocks the store (the Application never needs to; tests and tools do). */
    override fun close() = engine.close()
}
