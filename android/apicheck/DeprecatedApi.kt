// Self-test of the framework compile (see WrongApi.kt): a deprecated call must fail under -Werror.
package org.quietline.apicheck

import android.app.admin.DevicePolicyManager
import android.content.ComponentName

fun deprecated(dpm: DevicePolicyManager, admin: ComponentName) =
    dpm.setPasswordQuality(admin, DevicePolicyManager.PASSWORD_QUALITY_NUMERIC)
