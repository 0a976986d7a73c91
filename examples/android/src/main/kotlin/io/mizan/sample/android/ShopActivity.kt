package io.mizan.sample.android

import android.app.Activity
import android.app.AlertDialog
import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.ListView
import io.mizan.sample.ShopSession
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch

/**
 * The "for you" screen: the list is ranked off the main thread; a tap records a view and says why
 * the item is there, a long press marks it "not interested" and refreshes the list.
 */
class ShopActivity : Activity() {
    private val scope = MainScope()
    private lateinit var list: ListView
    private var rows: List<ShopSession.Row> = emptyList()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        list = ListView(this)
        setContentView(list)
        list.setOnItemClickListener { _, _, position, _ -> scope.launch { openItem(rows[position]) } }
        list.setOnItemLongClickListener { _, _, position, _ ->
            scope.launch { session().notInterested(rows[position].itemId); refresh() }
            true
        }
        scope.launch { refresh() }
    }

    override fun onDestroy() {
        // The session stays open: it belongs to the Application.
        scope.cancel()
        super.onDestroy()
    }

    private suspend fun session(): ShopSession = (application as SampleApplication).session.await()

    private suspend fun refresh() {
        rows = session().forYou(20)
        list.adapter = ArrayAdapter(this, android.R.layout.simple_list_item_2, android.R.id.text1, rows.map { "${it.title}\n${it.because}" })
    }

    private suspend fun openItem(row: ShopSession.Row) {
        session().viewed(row.itemId, dwellSecs = 30.0)
        val reasons = session().whyThis(row.itemId)
        AlertDialog.Builder(this).setTitle(row.title).setMessage(reasons.joinToString("\n")).show()
    }
}
