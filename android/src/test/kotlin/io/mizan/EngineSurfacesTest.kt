package io.mizan

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** The request knobs, caps, forget, best time and search words, from Kotlin, on the demo shop. */
class EngineSurfacesTest : DemoShopFixture() {
    private fun open(): Engine =
        Engine.open(EngineConfig(dataDir = File(dir, "store").path, trustedPackKeys = listOf(trustedKey)), FixedKey(ByteArray(32) { (11 + it).toByte() }))

    private fun view(item: String, minutesAgo: Long) = Event(itemId = item, kind = EventKind.VIEW, timestampMs = now - minutesAgo * 60_000, dwellSecs = 40.0)

    /** A shopper of Coffee & Tea (category 03) and Books (05). */
    private fun shopper(engine: Engine) = engine.apply {
        setConsent(personalisationPurpose(), true, "policy-1", false)
        loadCatalog(pack)
        record(listOf(view("sku-03-01", 50), view("sku-03-02", 40), view("sku-05-01", 30), view("sku-03-03", 20), view("sku-05-02", 10)))
    }

    private fun ids(request: RecommendRequest, engine: Engine) = engine.recommend(request).items.map { it.itemId }

    @Test
    fun theSameSeedGivesTheSameList() {
        open().use { engine ->
            shopper(engine)
            val request = RecommendRequest(k = 10, nowMs = now, seed = 7L, exploration = 0.3f)
            assertEquals(ids(request, engine), ids(request, engine))
        }
    }

    @Test
    fun seenItemsAreListedOnlyWhenAsked() {
        open().use { engine ->
            shopper(engine)
            val seen = setOf("sku-03-01", "sku-03-02", "sku-05-01", "sku-03-03", "sku-05-02")
            val plain = RecommendRequest(k = 40, nowMs = now, exploration = 0f, diversity = 0f)
            assertTrue(ids(plain, engine).none { it in seen })
            assertTrue(ids(plain.copy(includeSeen = true), engine).any { it in seen })
        }
    }

    @Test
    fun anItemShownTooOftenTodayIsHiddenUnderTheCap() {
        open().use { engine ->
            shopper(engine)
            val request = RecommendRequest(k = 10, nowMs = now, exploration = 0f)
            val top = ids(request, engine).first()
            repeat(3) { engine.feedback(Feedback(impressions = listOf(top), timestampMs = now)) }
            assertFalse(top in ids(request.copy(maxImpressionsPerItemPerDay = 2), engine))
            assertTrue(top in ids(request.copy(maxImpressionsPerItemPerDay = 5), engine), "under the cap it stays")
        }
    }

    @Test
    fun aCategoryShownTooOftenTodayIsHiddenUnderItsCap() {
        open().use { engine ->
            shopper(engine)
            val request = RecommendRequest(k = 10, nowMs = now, exploration = 0f)
            val coffee = ids(request, engine).filter { it.startsWith("sku-03-") }
            assertTrue(coffee.isNotEmpty(), "the shopper's coffee leads")
            engine.feedback(Feedback(impressions = coffee, timestampMs = now))
            val capped = ids(request.copy(maxImpressionsPerCategoryPerDay = coffee.size), engine)
            assertTrue(capped.none { it.startsWith("sku-03-") }, "$capped")
        }
    }

    @Test
    fun forgetByCategoryRemovesExactlyItsEvents() {
        open().use { engine ->
            shopper(engine)
            assertEquals(3L, engine.forget(ForgetRequest(categories = listOf("Coffee & Tea"))))
            assertEquals(2L, engine.inspect().events)
            assertEquals(0L, engine.forget(ForgetRequest(categories = listOf("Coffee & Tea"))), "a second time finds nothing")
        }
    }

    @Test
    fun forgetByKindAndTimeKeepsEverythingElse() {
        open().use { engine ->
            shopper(engine)
            engine.record(listOf(Event(itemId = "sku-05-03", kind = EventKind.PURCHASE, timestampMs = now - 5 * 60_000)))
            assertEquals(1L, engine.forget(ForgetRequest(kinds = listOf(EventKind.PURCHASE))))
            assertEquals(2L, engine.forget(ForgetRequest(fromMs = now - 35 * 60_000, untilMs = now - 15 * 60_000)), "the views of 30 and 20 minutes ago")
            assertEquals(3L, engine.inspect().events)
        }
    }

    @Test
    fun bestTimeFallsBackWithoutConsentOrData() {
        open().use { engine ->
            engine.loadCatalog(pack)
            val time = engine.bestTime(BestTimeRequest(nowMs = now))
            assertTrue(time.fallback && time.basedOnEvents == 0L)
            assertTrue(time.atMs > now, "a moment to come")
        }
    }

    @Test
    fun noveltyLiftsRarelySeenItemsWithAReason() {
        open().use { engine ->
            shopper(engine)
            val plain = RecommendRequest(k = 10, nowMs = now, exploration = 0f)
            val newReasons = { r: Recommendations -> r.items.flatMap { it.reasons }.filter { it.kind == ReasonKind.NEW && it.contribution > 0f } }
            assertTrue(newReasons(engine.recommend(plain)).isEmpty())
            assertTrue(newReasons(engine.recommend(plain.copy(novelty = 2f))).isNotEmpty())
        }
    }

    @Test
    fun explorationPlacesAreLabelled() {
        open().use { engine ->
            shopper(engine)
            val recs = engine.recommend(RecommendRequest(k = 10, nowMs = now, exploration = 0.5f, seed = 3L))
            val explored = recs.items.filter { it.reasons.first().kind == ReasonKind.EXPLORATION }
            assertEquals(5, explored.size, "half of ten places")
            assertTrue(explored.all { it.reasons.first().category != null })
        }
    }

    @Test
    fun withoutRepeatableItemsMixedIsDiscover() {
        open().use { engine ->
            shopper(engine)
            engine.record(listOf(Event(itemId = "sku-05-03", kind = EventKind.PURCHASE, timestampMs = now - 5 * 60_000)))
            val request = RecommendRequest(k = 10, nowMs = now, seed = 1L)
            assertEquals(engine.recommend(request.copy(mode = RecommendMode.DISCOVER)), engine.recommend(request))
            assertEquals(engine.recommend(request.copy(mode = RecommendMode.MIXED)), engine.recommend(request))
        }
    }

    @Test
    fun searchWordsAreKeptOnlyWithTheirPurpose() {
        open().use { engine ->
            shopper(engine)
            fun search(q: String) = Event(itemId = "", kind = EventKind.SEARCH, timestampMs = now - 1_000, query = q)
            engine.record(listOf(search("cardamom coffee")))
            assertFalse(engine.exportUserData().contains("cardamom"), "only keyed hashes without the purpose")
            engine.setConsent(searchTermsPurpose(), true, "policy-1", false)
            engine.record(listOf(search("mint tea")))
            val export = engine.exportUserData()
            assertTrue(export.contains("mint") && export.contains("mizan-user-data/1"))
        }
    }
}
