package io.mizan.sample

import io.mizan.DemoShopFixture
import io.mizan.FixedKey
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** The sample app's session, driven as its screens drive it, against the demo shop's pack. */
class ShopSessionTest : DemoShopFixture() {
    private fun session() = runBlocking { ShopSession.open(dir, FixedKey(ByteArray(32) { 5 }), trustedKey, pack, clock = { now }) }

    @Test
    fun viewsShapeTheListAndEveryItemSaysWhy() = runBlocking {
        session().use { shop ->
            shop.setPersonalisation(true)
            listOf("sku-03-01", "sku-03-02", "sku-03-04").forEach { shop.viewed(it, dwellSecs = 40.0) }
            val rows = shop.forYou(10)
            assertEquals(10, rows.size)
            assertTrue(rows.all { it.because.isNotBlank() })
            assertTrue(shop.whyThis(rows.first().itemId).isNotEmpty())
            shop.notInterested(rows.first().itemId)
            assertFalse(shop.forYou(10).any { it.itemId == rows.first().itemId }, "not interested hides it")
        }
    }

    @Test
    fun switchingPersonalisationOffErasesWhatWasRecorded() = runBlocking {
        session().use { shop ->
            shop.setPersonalisation(true)
            shop.viewed("sku-03-01", dwellSecs = 40.0)
            assertTrue(shop.personalised())
            shop.setPersonalisation(false)
            assertFalse(shop.personalised())
            assertEquals(10, shop.forYou(10).size, "lists still come, unpersonalised")
        }
        session().use { shop -> assertFalse(shop.personalised(), "the choice is kept") }
    }
}
