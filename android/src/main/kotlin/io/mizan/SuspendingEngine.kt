package io.mizan

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Coroutine-friendly access to an [Engine]: every call that touches the disk or ranks runs on
 * [dispatcher] ([Dispatchers.IO] by default), so it can be called from the main thread.
 *
 * A host-side wrapper rather than uniffi's async functions: the engine's work is blocking file I/O
 * and CPU-bound ranking, so a Rust async function would only hand it to a thread pool the library
 * would have to carry (and the mobile library's size budget pays for); a dispatcher the app already
 * has does the same, and the app chooses it. The engine is thread-safe, so coroutines may call it
 * concurrently. Closing this closes the engine.
 */
class SuspendingEngine(val engine: Engine, private val dispatcher: CoroutineDispatcher = Dispatchers.IO) : AutoCloseable {
    companion object {
        /** Opens (or creates) a store on [dispatcher]: decryption and replay happen off the caller's thread. */
        suspend fun open(config: EngineConfig, keyProvider: KeyProvider, dispatcher: CoroutineDispatcher = Dispatchers.IO): SuspendingEngine =
            withContext(dispatcher) { SuspendingEngine(Engine.open(config, keyProvider), dispatcher) }
    }

    private suspend fun <T> io(call: Engine.() -> T): T = withContext(dispatcher) { engine.call() }

    /** [Engine.setConsent] off the caller's thread. */
    suspend fun setConsent(purpose: String, granted: Boolean, policyVersion: String, eraseOnWithdraw: Boolean) =
        io { setConsent(purpose, granted, policyVersion, eraseOnWithdraw) }

    /** [Engine.loadCatalog] off the caller's thread (verifying a large pack takes tens of milliseconds). */
    suspend fun loadCatalog(signedPack: ByteArray): PackInfo = io { loadCatalog(signedPack) }

    /** [Engine.record] off the caller's thread. */
    suspend fun record(events: List<Event>): RecordOutcome = io { record(events) }

    /** [Engine.flush] off the caller's thread. */
    suspend fun flush() = io { flush() }

    /** [Engine.recommend] off the caller's thread. */
    suspend fun recommend(request: RecommendRequest): Recommendations = io { recommend(request) }

    /** [Engine.explain] off the caller's thread. */
    suspend fun explain(itemId: String, nowMs: Long? = null): Recommendation = io { explain(itemId, nowMs) }

    /** [Engine.feedback] off the caller's thread. */
    suspend fun feedback(feedback: Feedback) = io { feedback(feedback) }

    /** [Engine.bestTime] off the caller's thread. */
    suspend fun bestTime(request: BestTimeRequest): BestTime = io { bestTime(request) }

    /** [Engine.forget] off the caller's thread. */
    suspend fun forget(request: ForgetRequest): Long = io { forget(request) }

    /** [Engine.rotateKey] off the caller's thread (it rewrites the store). */
    suspend fun rotateKey(newKeyProvider: KeyProvider) = io { rotateKey(newKeyProvider) }

    /** [Engine.inspect] off the caller's thread. */
    suspend fun inspect(): InspectReport = io { inspect() }

    /** [Engine.exportUserData] off the caller's thread. */
    suspend fun exportUserData(): String = io { exportUserData() }

    /** [Engine.eraseAll] off the caller's thread. */
    suspend fun eraseAll() = io { eraseAll() }

    /** [Engine.shutdown] off the caller's thread: sync, snapshot, unlock. */
    suspend fun shutdown() = io { shutdown() }

    /** Closes the engine (blocking: use [shutdown] first from a coroutine to keep it off the caller's thread). */
    override fun close() = engine.close()
}
