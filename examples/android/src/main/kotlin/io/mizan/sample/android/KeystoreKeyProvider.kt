package io.mizan.sample.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import io.mizan.KeyProvider
import io.mizan.KeyProviderException
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The store's key material: 32 random bytes made once, kept in the app's private files encrypted
 * under an AES key that never leaves Android Keystore. If the Keystore key is invalidated (a lock
 * screen removed), Mizan gets a KeyUnavailable error carrying this provider's reason, and the app can
 * erase the store with `destroyStore` and start again.
 */
class KeystoreKeyProvider(private val context: Context) : KeyProvider {
    private val alias = "mizan-store-key"
    private val file get() = context.noBackupFilesDir.resolve("mizan-key.bin")

    override fun keyMaterial(): ByteArray =
        try {
            if (file.exists()) unwrap(file.readBytes()) else ByteArray(32).also { SecureRandom().nextBytes(it); file.writeBytes(wrap(it)) }
        } catch (e: Exception) {
            throw KeyProviderException.Unavailable("Keystore: ${e.javaClass.simpleName}")
        }

    private fun keystoreKey(): SecretKey {
        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (store.getKey(alias, null) as SecretKey?)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").apply { init(spec) }.generateKey()
    }

    private fun wrap(material: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, keystoreKey()) }
        return cipher.iv + cipher.doFinal(material)
    }

    private fun unwrap(sealed: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, keystoreKey(), GCMParameterSpec(128, sealed, 0, 12))
        return cipher.doFinal(sealed, 12, sealed.size - 12)
    }
}
