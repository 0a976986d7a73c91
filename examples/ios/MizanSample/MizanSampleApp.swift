// The app: one ShopSession for the process, opened once off the main actor with the bundled pack.
import Mizan
import SwiftUI

@main
struct MizanSampleApp: App {
    @State private var session: ShopSession?
    @State private var failure: String?

    var body: some Scene {
        WindowGroup {
            if let session {
                ShopView(session: session)
            } else {
                Text(failure ?? "Opening…")
                    .task { await openSession() }
            }
        }
    }

    private func openSession() async {
        do {
            let pack = try Data(contentsOf: Bundle.main.url(forResource: "catalog", withExtension: "pack")!)
            let key = try Data(contentsOf: Bundle.main.url(forResource: "catalog", withExtension: "pub")!)
            session = try await ShopSession.open(keyProvider: KeychainKeyProvider(), trustedPackKey: key, pack: pack)
        } catch {
            failure = "Recommendations are unavailable: \(error)"
        }
    }
}
