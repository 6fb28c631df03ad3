// Self-test of the framework compile in scripts/test.d/40-android.sh: each call below is wrong in a
// way the real API 35 jar must catch. The script compiles this file with -Werror and requires the
// diagnostics (DeprecatedApi.kt separately: kotlinc reports no warnings once a file has errors); if any compiles cleanly, the check that guards the app is not working.
package org.quietline.apicheck

import android.app.admin.DevicePolicyManager
import android.content.ComponentName

fun misspelt(dpm: DevicePolicyManager) = dpm.lockNoww()

fun wrongSignature(dpm: DevicePolicyManager, admin: ComponentName) = dpm.setMaximumTimeToLock(admin, "30000")
