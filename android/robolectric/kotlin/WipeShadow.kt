package org.quietline.robolectric

import android.app.admin.DevicePolicyManager
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowDevicePolicyManager

/**
 * Robolectric 4.16 shadows `wipeData` but not `wipeDevice` (API 34+, the device owner's full
 * wipe): this adds it, counting calls, and keeps every other behaviour of the stock shadow.
 */
@Implements(DevicePolicyManager::class)
open class WipeShadow : ShadowDevicePolicyManager() {
    @Implementation(minSdk = 34)
    protected fun wipeDevice(@Suppress("UNUSED_PARAMETER") flags: Int) {
        wipeDeviceCalls++
    }

    @Implementation(minSdk = 31)
    protected fun setRequiredPasswordComplexity(complexity: Int) {
        requiredComplexity = complexity
    }

    @Implementation(minSdk = 31)
    protected fun getRequiredPasswordComplexity(): Int = requiredComplexity

    @Implementation
    override fun lockNow() {
        lockNowCalls++
        super.lockNow()
    }

    companion object {
        @JvmStatic var wipeDeviceCalls = 0
        @JvmStatic var lockNowCalls = 0
        @JvmStatic var requiredComplexity = 0
    }
}
