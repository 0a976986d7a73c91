// The "for you" screen: the list is ranked off the main actor; a tap records a view and says why the
// item is there, "Not interested" hides it, and the toggle is the consent switch.
import Mizan
import SwiftUI

struct ShopView: View {
    let session: ShopSession
    @State private var rows: [Row] = []
    @State private var personalised = false
    @State private var reasons: [String] = []
    @State private var showingWhy = false

    var body: some View {
        List {
            Toggle("Personalised recommendations", isOn: $personalised)
                .onChange(of: personalised) { enabled in
                    Task {
                        try? await session.setPersonalisation(enabled)
                        await refresh()
                    }
                }
            ForEach(rows) { row in
                VStack(alignment: .leading) {
                    Text(row.title)
                    Text(row.because).font(.caption).foregroundColor(.secondary)
                }
                .onTapGesture { Task { await open(row) } }
                .swipeActions {
                    Button("Not interested") {
                        Task {
                            try? await session.notInterested(row.id)
                            await refresh()
                        }
                    }
                }
            }
        }
        .alert("Why this?", isPresented: $showingWhy) {
            Button("OK", role: .cancel) {}
        } message: {
            Text(reasons.joined(separator: "\n"))
        }
        .task {
            personalised = (try? await session.personalised()) ?? false
            await refresh()
        }
    }

    private func refresh() async {
        rows = (try? await session.forYou(count: 20)) ?? []
    }

    private func open(_ row: Row) async {
        try? await session.viewed(row.id, dwellSecs: 30)
        reasons = (try? await session.whyThis(row.id)) ?? []
        showingWhy = true
    }
}
