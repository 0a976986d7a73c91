// The store's key material: 32 random bytes made once and kept in the Keychain, readable after the
// first unlock (so background tasks can record) and never migrated to another device.
import Foundation
import Mizan
import Security

final class KeychainKeyProvider: KeyProvider, @unchecked Sendable {
    private let account = "mizan-store-key"

    func keyMaterial() throws -> Data {
        if let existing = try read() {
            return existing
        }
        var bytes = Data(count: 32)
        let status = bytes.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        guard status == errSecSuccess else { throw KeyProviderError.Unavailable(reason: "no randomness (\(status))") }
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: bytes,
        ]
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else { throw KeyProviderError.Unavailable(reason: "Keychain add failed (\(added))") }
        return bytes
    }

    private func read() throws -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound {
            return nil
        }
        guard status == errSecSuccess, let data = item as? Data else {
            // A locked device before its first unlock, or an item the system invalidated.
            throw KeyProviderError.Unavailable(reason: "Keychain read failed (\(status))")
        }
        return data
    }
}
