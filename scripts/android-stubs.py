#!/usr/bin/env python3
"""Compiles the Android app's Kotlin against Java stubs of the Android API (level 36).

There is no Android SDK here, so the stubs are generated from PyPI's `chaquopy-stubs-android`
(type stubs of every public class of android.jar, API 36):

  1. installs chaquopy-stubs-android into .tools/py-android (pip --target) when missing;
  2. collects every android.* / dalvik.* class the app's Kotlin names (imports, fully-qualified
     uses, nested classes reached through them) and fails if one does not exist in API 36;
  3. generates Java sources for those classes and everything their signatures reach (supertypes,
     parameter/return/field types, nested and enclosing classes): constructors, methods with
     their overloads, static and instance fields, generics, @Nullable returns, @Deprecated from
     the table below (the .pyi files carry no deprecation); bodies throw RuntimeException("stub");
  4. javac's them into a jar and compiles ALL of android/app/src/main/java with kotlinc -Werror
     against it, the generated UniFFI Kotlin and JNA;
  5. self-test: a copy of the app with one Android method misspelt must fail to compile.

The .pyi files lose some Java facts; the script recovers them as follows and says so:
  - interface vs class: a type listed after the first base of any class is an interface (Java
    has single inheritance), JDK types are asked of the JVM, and the types the app extends or
    implements come from APP_SUPERTYPES (which also lists their abstract methods); the script
    fails if the app extends a type missing from that table;
  - primitive widths of return values (`-> int` is int, long, short or byte): RETURN_WIDTHS, then
    the accessor's name (getLong, readLong...), then a setter of the same property, else int;
  - constant values: fields are `static final` but not compile-time constants (the values are
    not in the .pyi); CONSTANTS gives values where the app needs a constant.

Usage: android-stubs.py --kotlinc PATH --classpath JARS [--out DIR] [--no-self-test]
"""
import argparse
import ast
import contextlib
import hashlib
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUBS_PKG = "chaquopy-stubs-android==36.20260406"
STUBS_DIR = ROOT / ".tools" / "py-android"
APP_SRC = ROOT / "android" / "app" / "src" / "main" / "java"

# Types the app's classes extend or implement, with what the .pyi cannot say: whether each is an
# interface, an abstract class or a concrete class, and which of its methods are abstract (so a
# missing override fails like it would against android.jar). Checked against the API reference.
APP_SUPERTYPES = {
    "android.app.admin.DeviceAdminReceiver": ("class", []),
    "android.content.BroadcastReceiver": ("abstract", ["onReceive"]),
    "android.app.job.JobService": ("abstract", ["onStartJob", "onStopJob"]),
    "android.telecom.CallScreeningService": ("abstract", ["onScreenCall"]),
    "android.telecom.CallRedirectionService": ("abstract", ["onPlaceCall"]),
    "android.telecom.ConnectionService": ("abstract", []),
    "android.telecom.Connection": ("abstract", []),
    "android.telephony.TelephonyCallback": ("class", []),
    "android.telephony.TelephonyCallback.CallStateListener": ("interface", ["onCallStateChanged"]),
    "android.app.Application": ("class", []),
    "android.app.Activity": ("class", []),
    "android.view.View.OnClickListener": ("interface", ["onClick"]),
}

# Deprecated members (the .pyi has no deprecation, so this table stands in for it). It covers the
# classes the app uses and their usual traps; each entry is deprecated in API 36's reference, the
# comment says since when and what replaces it. Key: class, class#member (all overloads), or
# class#member(erased,param,types) for one overload; constructors are <init>.
DEPRECATED = {
    # API 31: password complexity (setRequiredPasswordComplexity) replaces quality and minimums.
    "android.app.admin.DevicePolicyManager#setPasswordQuality",
    "android.app.admin.DevicePolicyManager#getPasswordQuality",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumLength",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumLength",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumLetters",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumLetters",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumNumeric",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumNumeric",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumSymbols",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumSymbols",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumUpperCase",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumUpperCase",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumLowerCase",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumLowerCase",
    "android.app.admin.DevicePolicyManager#setPasswordMinimumNonLetter",
    "android.app.admin.DevicePolicyManager#getPasswordMinimumNonLetter",
    "android.app.admin.DevicePolicyManager#setOrganizationColor",
    "android.app.admin.DevicePolicyManager#getOrganizationColor",
    # API 26: resetPasswordWithToken.
    "android.app.admin.DevicePolicyManager#resetPassword",
    # API 26: notification channels.
    "android.app.Notification.Builder#<init>(android.content.Context)",
    "android.app.Notification.Builder#setPriority",
    "android.app.Notification.Builder#setSound",
    "android.app.Notification.Builder#setVibrate",
    # API 31: TelephonyCallback; per-subscription call state.
    "android.telephony.PhoneStateListener",
    "android.telephony.TelephonyManager#listen",
    "android.telephony.TelephonyManager#getCallState",
    # API 26 / 29: device identifiers.
    "android.telephony.TelephonyManager#getDeviceId",
    "android.os.Build#SERIAL",
    # API 21: formatNumber(String, String).
    "android.telephony.PhoneNumberUtils#formatNumber(java.lang.String)",
    # API 29: the default dialer or call screening roles.
    "android.telecom.TelecomManager#endCall",
    "android.telecom.TelecomManager#acceptRingingCall",
    # API 29: NetworkCapabilities / callbacks.
    "android.net.NetworkInfo",
    "android.net.ConnectivityManager#getActiveNetworkInfo",
    # API 30: an explicit Looper.
    "android.os.Handler#<init>()",
    # API 17 / 21.
    "android.content.Context#MODE_WORLD_READABLE",
    "android.content.Context#MODE_WORLD_WRITEABLE",
    "android.content.Context#sendStickyBroadcast",
    "android.content.Context#removeStickyBroadcast",
    # API 31: expedited jobs.
    "android.app.job.JobInfo.Builder#setImportantWhileForeground",
    # API 33: the type-safe getters (getParcelableExtra(String, Class), getString, ...).
    "android.content.Intent#getParcelableExtra(java.lang.String)",
    "android.os.BaseBundle#get",
    # API 16: contact usage is no longer tracked.
    "android.provider.ContactsContract.Contacts#markAsContacted",
}

# Return values the .pyi writes as `int` / `float` whose Java type is wider or narrower, where
# neither the accessor's name nor a setter tells.
RETURN_WIDTHS = {
    "android.app.admin.DevicePolicyManager#getMaximumTimeToLock": "long",
    "android.app.admin.DevicePolicyManager#getPasswordExpirationTimeout": "long",
    "android.app.admin.DevicePolicyManager#getPasswordExpiration": "long",
    "android.app.admin.DevicePolicyManager#getRequiredStrongAuthTimeout": "long",
    "android.app.job.JobInfo#getMinLatencyMillis": "long",
    "android.app.job.JobInfo#getMaxExecutionDelayMillis": "long",
    "android.app.job.JobInfo#getIntervalMillis": "long",
    "android.app.job.JobInfo#getFlexMillis": "long",
    "android.app.job.JobInfo#getInitialBackoffMillis": "long",
    "android.app.job.JobInfo#getMinPeriodMillis": "long",
    "android.app.job.JobInfo#getMinFlexMillis": "long",
    "android.content.ContentUris#parseId": "long",
    "android.os.SystemClock#elapsedRealtime": "long",
    "android.os.SystemClock#uptimeMillis": "long",
    "android.os.SystemClock#currentThreadTimeMillis": "long",
    "android.os.SystemClock#elapsedRealtimeNanos": "long",
    "android.telecom.Call.Details#getConnectTimeMillis": "long",
    "android.telecom.Call.Details#getCreationTimeMillis": "long",
    "android.telephony.SmsMessage#getTimestampMillis": "long",
    "android.app.Notification#when": "long",
}
# Field types: `ClassVar[int]` is int unless listed here.
FIELD_TYPES = {
    "android.app.job.JobInfo#DEFAULT_INITIAL_BACKOFF_MILLIS": "long",
    "android.app.job.JobInfo#MAX_BACKOFF_DELAY_MILLIS": "long",
    "android.text.format.DateUtils#SECOND_IN_MILLIS": "long",
    "android.text.format.DateUtils#MINUTE_IN_MILLIS": "long",
    "android.text.format.DateUtils#HOUR_IN_MILLIS": "long",
    "android.text.format.DateUtils#DAY_IN_MILLIS": "long",
    "android.text.format.DateUtils#WEEK_IN_MILLIS": "long",
    "android.app.Notification#when": "long",
}
# Compile-time constant values (for `const val` / annotation use). Fields not listed here are
# `static final` without a constant value, which Kotlin accepts everywhere else (`when` included).
CONSTANTS = {}

PRIMS = {"jint": "int", "jlong": "long", "jboolean": "boolean", "jfloat": "float",
         "jdouble": "double", "jshort": "short", "jbyte": "byte", "jchar": "char"}
ARRAYS = {"JavaArrayJByte": "byte", "JavaArrayJInt": "int", "JavaArrayJLong": "long",
          "JavaArrayJBoolean": "boolean", "JavaArrayJChar": "char", "JavaArrayJDouble": "double",
          "JavaArrayJFloat": "float", "JavaArrayJShort": "short"}
BOXES = {"int": "java.lang.Integer", "long": "java.lang.Long", "boolean": "java.lang.Boolean",
         "float": "java.lang.Float", "double": "java.lang.Double", "short": "java.lang.Short",
         "byte": "java.lang.Byte", "char": "java.lang.Character"}
JAVA_KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue
default do double else enum extends final finally float for goto if implements import instanceof
int interface long native new package private protected public return short static strictfp super
switch synchronized this throw throws transient try void volatile while true false null var
record yield""".split())
# Packages generated from the .pyi; anything else (java.*, javax.*, ...) must be in the JDK.
STUB_ROOTS = ("android", "dalvik", "org")


def fail(msg):
    print("android-stubs: " + msg, file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(msg, flush=True)


# --- 1. the .pyi stubs ----------------------------------------------------------------------------

def ensure_stubs():
    if (STUBS_DIR / "android-stubs" / "app" / "admin" / "__init__.pyi").exists():
        return
    log("-- installing %s into %s" % (STUBS_PKG, STUBS_DIR.relative_to(ROOT)))
    STUBS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-deps", "--upgrade", "--root-user-action=ignore", "--target", str(STUBS_DIR), STUBS_PKG],
                   check=True, stdin=subprocess.DEVNULL)


class Cls:
    def __init__(self, fqn, module, node, outer):
        self.fqn, self.module, self.node, self.outer = fqn, module, node, outer
        self.name = fqn.rsplit(".", 1)[1]
        self.nested = []        # fqns
        self.typevars = {}      # python name -> (java name, bound ast or None)  (method-level)
        self.kind = None        # 'interface' | 'class' | 'annotation'
        self.abstract = False
        self.abstract_methods = set()
        self.type_params = []   # python typevar names, in order
        self.bases = []         # ast nodes (without typing.Generic)


class Index:
    def __init__(self):
        self.classes = {}
        self.module_typevars = {}   # module -> {pyname: (javaname, bound)}

    def load(self):
        for top in ("android-stubs", "dalvik-stubs", "org-stubs"):
            base = STUBS_DIR / top
            for path in sorted(base.rglob("*.pyi")):
                rel = path.relative_to(STUBS_DIR)
                parts = [rel.parts[0][:-len("-stubs")]] + list(rel.parts[1:-1])
                if path.name != "__init__.pyi":
                    parts.append(path.stem)
                module = ".".join(parts)
                tree = ast.parse(path.read_text(), str(path))
                tvs = self.module_typevars.setdefault(module, {})
                for node in tree.body:
                    self._typevar(node, tvs)
                    if isinstance(node, ast.ClassDef):
                        self._add(module, module, node, None)

    @staticmethod
    def _typevar(node, into):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) == "typing.TypeVar"):
            py = node.targets[0].id
            bound = None
            for kw in node.value.keywords:
                if kw.arg == "bound":
                    bound = kw.value
            into[py] = (py.rsplit("__", 1)[-1], bound)

    def _add(self, module, prefix, node, outer):
        fqn = prefix + "." + node.name
        c = Cls(fqn, module, node, outer)
        self.classes[fqn] = c
        for b in node.bases:
            if isinstance(b, ast.Subscript) and ast.unparse(b.value) == "typing.Generic":
                el = b.slice.elts if isinstance(b.slice, ast.Tuple) else [b.slice]
                c.type_params = [e.id for e in el]
            else:
                c.bases.append(b)
        for item in node.body:
            self._typevar(item, c.typevars)
            if isinstance(item, ast.ClassDef):
                c.nested.append(fqn + "." + item.name)
                self._add(module, fqn, item, fqn)
        return c


# --- type resolution ------------------------------------------------------------------------------

class JType:
    """A Java type: base name (fqn or primitive or type variable), args, array depth."""

    def __init__(self, name, args=(), dims=0, tvar=False, nullable=False):
        self.name, self.args, self.dims, self.tvar, self.nullable = name, list(args), dims, tvar, nullable

    def java(self):
        s = self.name
        if self.args:
            s += "<" + ", ".join(a.java() for a in self.args) + ">"
        return s + "[]" * self.dims

    def erasure(self):
        return ("Object" if self.tvar else self.name) + "[]" * self.dims

    def refs(self):
        out = [] if (self.tvar or self.name in BOXES or self.name == "void") else [self.name]
        for a in self.args:
            out += a.refs()
        return out

    def boxed(self):
        if self.dims == 0 and self.name in BOXES:
            return JType(BOXES[self.name], nullable=self.nullable)
        return self


class Resolver:
    def __init__(self, index):
        self.ix = index

    def cls_name(self, dotted, cls):
        """A dotted python name in the scope of class `cls` -> java fqn (classes only)."""
        module = cls.module
        if module + "." + dotted in self.ix.classes:
            return module + "." + dotted
        if dotted in self.ix.classes:
            return dotted
        if dotted.split(".")[0] in ("java", "javax", "org", "android", "dalvik"):
            return dotted
        raise KeyError("cannot resolve %r in %s" % (dotted, cls.fqn))

    def tvar(self, name, cls):
        c = cls
        while c is not None:
            if name in c.typevars:
                return c.typevars[name]
            c = self.ix.classes.get(c.outer) if c.outer else None
        return self.ix.module_typevars.get(cls.module, {}).get(name)

    def conv(self, node, cls, ctx):
        """ctx: 'param' | 'return' | 'field' | 'arg' (type argument)."""
        if isinstance(node, ast.BinOp):
            members = []

            def flat(n):
                if isinstance(n, ast.BinOp):
                    flat(n.left), flat(n.right)
                else:
                    members.append(n)
            flat(node)
            text = [ast.unparse(m) for m in members]
            nullable = "None" in text
            for t in text:
                if t.startswith("java.j") and t[5:] in PRIMS:
                    return JType(PRIMS[t[5:]])
            if "java.lang.Object" in text and len(text) > 2:
                return JType("java.lang.Object")
            rest = [m for m, t in zip(members, text)
                    if t not in ("None", "int", "bool", "float", "str") or len(text) == 2 and t != "None"]
            rest = [m for m in rest if ast.unparse(m) != "None"]
            if len(rest) > 1:   # str | java.lang.String
                rest = [m for m in rest if ast.unparse(m) not in ("int", "bool", "float", "str")]
            if len(rest) != 1:
                raise KeyError("union %s in %s" % (ast.unparse(node), cls.fqn))
            t = self.conv(rest[0], cls, ctx)
            if nullable:
                t = t.boxed()
                t.nullable = True
            return t
        text = ast.unparse(node)
        if isinstance(node, ast.Constant) and node.value is None or text == "None":
            return JType("void")
        if text in ("int", "bool", "float", "str"):
            prim = {"int": "int", "bool": "boolean", "float": "float", "str": "java.lang.String"}[text]
            return JType(prim).boxed() if ctx == "arg" else JType(prim)
        if text == "typing.Type":
            return JType("java.lang.Class", [JType("?", tvar=True)])  # raw Class
        if text in ("typing.Any", "java.lang.Object"):
            # As a type argument of a parameter or a bound the .pyi's Object is usually Java's `?`.
            return JType("?", tvar=True) if ctx == "warg" else JType("java.lang.Object")
        if isinstance(node, ast.Subscript):
            head = ast.unparse(node.value)
            el = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head == "java.chaquopy.JavaArray":
                inner = self.conv(el[0], cls, "arg")
                return JType(inner.name, inner.args, inner.dims + 1, inner.tvar)
            if head == "typing.Type":
                argctx = "warg" if ctx in ("param", "bound", "warg") else "arg"
                return JType("java.lang.Class", [self.conv(el[0], cls, argctx)])
            base = self.conv(node.value, cls, ctx)
            argctx = "warg" if ctx in ("param", "bound", "warg") else "arg"
            base.args = [self.conv(e, cls, argctx) for e in el]
            return base
        if text.startswith("java.chaquopy.JavaArray") and text.split(".")[-1] in ARRAYS:
            return JType(ARRAYS[text.split(".")[-1]], dims=1)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            tv = self.tvar(node.id, cls)
            if tv is None:
                raise KeyError("type variable %s in %s" % (node.id, cls.fqn))
            return JType(tv[0], tvar=True)
        if isinstance(node, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9]?", node.id) \
                and cls.module + "." + node.id not in self.ix.classes:
            return JType(node.id, tvar=True)   # a recursive bound: T extends Builder<T>
        return JType(self.cls_name(text, cls))


# --- 2. what the app references ----------------------------------------------------------------------

def strip_kotlin(src):
    """Removes comments and string literals (keeps line structure roughly)."""
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", "", src)
    src = re.sub(r'"""(?:.|\n)*?"""', '""', src)
    src = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', src)
    return src


def app_references(index, sources):
    """-> (set of referenced android/dalvik class fqns, {app class: [supertype fqns]})."""
    refs, supers, missing = set(), {}, []
    roots = ("android.", "dalvik.")

    def longest_class(parts):
        for i in range(len(parts), 1, -1):
            cand = ".".join(parts[:i])
            if cand in index.classes:
                return cand, parts[i:]
        return None, parts

    def check_tail(fqn, tail, where):
        # a CamelCase segment right after a class must be one of its nested classes
        if tail and re.match(r"^[A-Z][a-z]", tail[0]):
            missing.append("%s.%s (%s)" % (fqn, tail[0], where))

    for path in sources:
        raw = path.read_text()
        text = strip_kotlin(raw)
        imports = {}
        for m in re.finditer(r"^import\s+([\w.]+)(?:\s+as\s+(\w+))?", text, re.M):
            name, alias = m.group(1), m.group(2)
            if not name.startswith(roots):
                continue
            if name.endswith(".*"):
                fail("%s: wildcard import %s: import classes by name" % (path.name, name))
            fqn, tail = longest_class(name.split("."))
            if fqn is None or tail:
                missing.append("%s (import in %s)" % (name, path.name))
                continue
            refs.add(fqn)
            imports[alias or fqn.rsplit(".", 1)[1]] = fqn
        body = re.sub(r"^(import|package)\s+[^\n]*", "", text, flags=re.M)
        for m in re.finditer(r"(?<![\w.])(?:android|dalvik)(?:\.\w+)+", body):
            parts = m.group(0).split(".")
            fqn, tail = longest_class(parts)
            if fqn is None:
                missing.append("%s (in %s)" % (m.group(0), path.name))
                continue
            refs.add(fqn)
            check_tail(fqn, tail, path.name)
        for m in re.finditer(r"(?<![\w.])([A-Z]\w*)((?:\.\w+)+)", body):
            if m.group(1) not in imports:
                continue
            parts = imports[m.group(1)].split(".") + m.group(2)[1:].split(".")
            fqn, tail = longest_class(parts)
            refs.add(fqn)
            check_tail(fqn, tail, path.name)
        # supertypes: `class X ... : A(), B {` and `object : A()`
        for m in re.finditer(r"\b(?:class|object)\s*(\w*)[^{=\n]*?\)?\s*:\s*([\w.<>(), ]+?)\s*(?:\{|$)", body, re.M):
            owner = m.group(1) or "object expression in " + path.name
            for s in re.split(r",\s*(?![^<]*>)", m.group(2)):
                s = re.sub(r"<.*>", "", s).replace("()", "").strip()
                if not s or not re.match(r"^[A-Za-z][\w.]*$", s):
                    continue
                head = s.split(".")[0]
                if head in imports:
                    parts = imports[head].split(".") + s.split(".")[1:]
                elif s.startswith(roots):
                    parts = s.split(".")
                else:
                    # a nested class inherited from another supertype, e.g. `CallStateListener`
                    continue
                fqn, tail = longest_class(parts)
                if fqn and not tail:
                    supers.setdefault(owner, []).append(fqn)
    if missing:
        fail("classes the app uses are not in API 36:\n  " + "\n  ".join(sorted(set(missing))))
    return refs, supers


# --- 3. closure and classification -------------------------------------------------------------------

def is_stub(fqn):
    return fqn.split(".")[0] in STUB_ROOTS


def closure(index, res, seeds, jdk):
    """Every stub class reachable from `seeds`; JDK names are collected into jdk (a set)."""
    need, todo = set(), list(seeds)
    while todo:
        fqn = todo.pop()
        if fqn in need:
            continue
        if fqn not in index.classes:
            if is_stub(fqn) and not fqn.startswith(("org.w3c.", "org.xml.", "org.ietf.")):
                fail("%s is referenced but not in the stubs" % fqn)
            jdk.add(fqn)
            continue
        need.add(fqn)
        c = index.classes[fqn]
        if c.outer:
            todo.append(c.outer)
        todo.extend(c.nested)
        for t in sig_types(res, c):
            todo.extend(t.refs())
    return need


def sig_types(res, c):
    out = []
    for b in c.bases:
        out.append(res.conv(b, c, "arg"))
    for tv in c.type_params:
        b = res.tvar(tv, c)
        if b and b[1] is not None:
            out.append(res.conv(b[1], c, "arg"))
    for item in c.node.body:
        if isinstance(item, ast.FunctionDef):
            for a in fn_params(item):
                if a.annotation is not None:
                    out.append(res.conv(a.annotation, c, "param"))
            if item.returns is not None:
                out.append(res.conv(item.returns, c, "return"))
        elif isinstance(item, ast.AnnAssign):
            out.append(res.conv(field_ann(item), c, "field"))
    for tv in c.typevars.values():
        if tv[1] is not None:
            out.append(res.conv(tv[1], c, "arg"))
    return out


def fn_params(fn):
    """Parameters without self (the .pyi writes them positional-only)."""
    ps = list(fn.args.posonlyargs) + list(fn.args.args)
    return ps if is_static(fn) else ps[1:]


def is_static(fn):
    return any(ast.unparse(d) == "staticmethod" for d in fn.decorator_list)


def field_ann(item):
    a = item.annotation
    if isinstance(a, ast.Subscript) and ast.unparse(a.value) == "typing.ClassVar":
        return a.slice
    return a


JDK_PROBE = r"""
import java.lang.reflect.Modifier;
public class JdkProbe {
  public static void main(String[] a) throws Exception {
    java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    for (String n; (n = r.readLine()) != null; ) {
      Class<?> c = null; String b = n;
      while (c == null) {
        try { c = Class.forName(b, false, JdkProbe.class.getClassLoader()); }
        catch (ClassNotFoundException e) {
          int i = b.lastIndexOf('.'); if (i < 0) break; b = b.substring(0, i) + "$" + b.substring(i + 1);
          if (b.indexOf('.') < 0) break;
        }
      }
      if (c == null || !Modifier.isPublic(c.getModifiers())) { System.out.println(n + "\tmissing\t0"); continue; }
      String k = c.isAnnotation() ? "annotation" : c.isInterface() ? "interface"
        : Modifier.isFinal(c.getModifiers()) ? "final" : "class";
      boolean noarg = false;
      for (java.lang.reflect.Constructor<?> k2 : c.getDeclaredConstructors())
        if (k2.getParameterCount() == 0 && (Modifier.isPublic(k2.getModifiers()) || Modifier.isProtected(k2.getModifiers()))) noarg = true;
      StringBuilder tp = new StringBuilder();
      for (java.lang.reflect.TypeVariable<?> v : c.getTypeParameters()) tp.append(tp.length() > 0 ? "," : "").append(v.getName());
      System.out.println(n + "\t" + k + "\t" + c.getTypeParameters().length + "\t" + noarg + "\t" + tp);
      for (java.lang.reflect.Method m : c.getMethods()) {
        if (Modifier.isStatic(m.getModifiers()) || m.isBridge() || m.isSynthetic()) continue;
        boolean abs = Modifier.isAbstract(m.getModifiers());
        if (abs) try { Object.class.getMethod(m.getName(), m.getParameterTypes()); abs = false; } catch (NoSuchMethodException e) {}
        StringBuilder ps = new StringBuilder(), es = new StringBuilder();
        for (java.lang.reflect.Type t : m.getGenericParameterTypes()) ps.append(ps.length() > 0 ? ";" : "").append(t.getTypeName().replace('$', '.'));
        for (Class<?> t : m.getParameterTypes()) es.append(es.length() > 0 ? ";" : "").append(t.getTypeName().replace('$', '.'));
        StringBuilder tv = new StringBuilder();
        for (java.lang.reflect.TypeVariable<?> v : m.getTypeParameters()) tv.append(tv.length() > 0 ? ", " : "").append(v.toString()).append(v.getBounds().length > 0 && v.getBounds()[0] != Object.class ? " extends " + v.getBounds()[0].getTypeName().replace('$', '.') : "");
        System.out.println("M\t" + n + "\t" + m.getName() + "\t" + (abs ? 1 : 0) + "\t" + m.getGenericReturnType().getTypeName().replace('$', '.') + "\t" + ps + "\t" + es + "\t" + tv);
      }
      for (java.lang.reflect.Constructor<?> k2 : c.getDeclaredConstructors()) {
        if (!Modifier.isPublic(k2.getModifiers()) && !Modifier.isProtected(k2.getModifiers())) continue;
        StringBuilder es = new StringBuilder();
        for (Class<?> t : k2.getParameterTypes()) es.append(es.length() > 0 ? ";" : "").append(t.getTypeName().replace('$', '.'));
        System.out.println("C\t" + n + "\t" + es);
      }
    }
  }
}
"""


class JdkMethod:
    def __init__(self, name, abstract, ret, params, erased, tvars):
        self.name, self.abstract, self.ret, self.params, self.erased, self.tvars = \
            name, abstract, ret, params, erased, tvars


JDK_CTORS = {}


def probe_jdk(names, work):
    src = work / "JdkProbe.java"
    src.write_text(JDK_PROBE)
    out = subprocess.run(["java", str(src)], input="\n".join(sorted(names)) + "\n",
                         capture_output=True, text=True, check=True).stdout
    info, abstract = {}, {}
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "M":
            abstract.setdefault(f[1], []).append(JdkMethod(f[2], f[3] == "1", f[4], [x for x in f[5].split(";") if x],
                                                           [x for x in f[6].split(";") if x], f[7]))
            continue
        if f[0] == "C":
            JDK_CTORS.setdefault(f[1], []).append([x for x in f[2].split(";") if x])
            continue
        info[f[0]] = (f[1], int(f[2]), len(f) > 3 and f[3] == "true",
                      f[4].split(",") if len(f) > 4 and f[4] else [])
    for n in info:
        info[n] = info[n] + (abstract.get(n, []),)
    return info


def has_ctor(c):
    return any(isinstance(f, ast.FunctionDef) and f.name == "__init__" for f in c.node.body)


def classify(index, res, need, jdk, app_supers):
    """Sets .kind / .abstract on every needed class.

    The .pyi lists a class's bases in alphabetical order, superclass and interfaces alike, and
    does not mark interfaces. A type with a public constructor, or a JDK class, is a class for
    sure; among several bases at most one is a class, so the others are interfaces; a base with
    no evidence either way is an interface when it sits beside others (its methods become default
    methods, so either reading compiles) and a class otherwise.
    """
    ix = index.classes

    def names(c):
        out = []
        for b in c.bases:
            try:
                n = res.conv(b, c, "arg").name
            except KeyError:
                continue
            if n != "java.lang.Object":
                out.append(n)
        return out

    def definite(n):
        if n in APP_SUPERTYPES:
            return APP_SUPERTYPES[n][0] != "interface"
        if n in ix:
            return has_ctor(ix[n]) or ix[n].kind == "enum"
        return jdk.get(n, ("missing",))[0] in ("class", "final")

    for fqn in need:
        c = ix[fqn]
        c.kind = "class"
        first = ast.unparse(c.bases[0]) if c.bases else ""
        if first == "java.lang.annotation.Annotation":
            c.kind = "annotation"
        elif first.startswith("java.lang.Enum"):
            c.kind = "enum"
        elif "java.lang.Record" in [ast.unparse(b) for b in c.bases]:
            c.bases = [b for b in c.bases if ast.unparse(b) != "java.lang.Record"]
        elif (re.search(r"(Listener|Callback|Columns)$", c.name) and not has_ctor(c)
              and all(ast.unparse(b) == "java.lang.Object" for b in c.bases)):
            c.kind = "interface"
    iface = set()
    for c in ix.values():
        bs = names(c)
        if len(bs) < 2:
            continue
        cls = [b for b in bs if definite(b)]
        keep = cls[0] if cls else None
        iface.update(b for b in bs if b != keep)
    for fqn in need:
        if fqn in iface and not definite(fqn) and ix[fqn].kind == "class":
            ix[fqn].kind = "interface"

    def kind_of(name):
        if name in ix:
            return ix[name].kind
        k = jdk.get(name, ("missing",))[0]
        return "interface" if k in ("interface", "annotation") else k

    changed = True
    while changed:
        changed = False
        for fqn in need:
            c = ix[fqn]
            if fqn in APP_SUPERTYPES or c.kind in ("enum", "annotation"):
                continue
            bs = names(c)
            if c.kind == "interface" and any(definite(b) for b in bs):
                c.kind, changed = "class", True       # extends a real class: is one
            if c.kind == "interface":
                for b in bs:                          # an interface's bases are interfaces
                    if b in ix and ix[b].kind == "class" and not definite(b):
                        ix[b].kind, changed = "interface", True
            else:
                cls = [b for b in bs if kind_of(b) in ("class", "final")]
                for b in cls[1:] if not any(definite(x) for x in cls) else [x for x in cls if not definite(x)]:
                    if b in ix and not definite(b):   # one superclass: the rest are interfaces
                        ix[b].kind, changed = "interface", True
    for fqn, (kind, abstract) in APP_SUPERTYPES.items():
        if fqn in index.classes and fqn in need:
            c = index.classes[fqn]
            c.kind = "interface" if kind == "interface" else "class"
            c.abstract = kind in ("abstract", "interface")
            c.abstract_methods = set(abstract)
    unknown = sorted({s for ss in app_supers.values() for s in ss if s not in APP_SUPERTYPES})
    if unknown:
        fail("the app extends or implements types missing from APP_SUPERTYPES in %s "
             "(say whether each is an interface, abstract or a class, and its abstract methods): %s"
             % (pathlib.Path(__file__).name, ", ".join(unknown)))


# --- Java generation ----------------------------------------------------------------------------------

def jname(fqn):
    return fqn


def render_method_tparams(res, c, sig):
    """Method-level type variables used in a signature -> '<T extends B> ' or ''."""
    used = []
    for t in sig:
        stack = [t]
        while stack:
            x = stack.pop()
            if x.tvar and x.name != "?" and x.name not in used:
                used.append(x.name)
            stack.extend(x.args)
    local = {v[0]: v for k, v in c.typevars.items()}
    out = []
    for n in used:
        if n in local:
            b = local[n][1]
            out.append(n + (" extends " + res.conv(b, c, "bound").java() if b is not None else ""))
    return ("<" + ", ".join(out) + "> ") if out else ""


def width(c, name, py, params_all, jt):
    """Primitive width of a `-> int` / `-> float` return."""
    key = c.fqn + "#" + name
    if key in RETURN_WIDTHS:
        return RETURN_WIDTHS[key]
    if jt.name == "int":
        for word, prim in (("Long", "long"), ("Short", "short"), ("Byte", "byte")):
            if re.search(word + r"(?![a-z])", name) and not re.search(r"Bytes", name):
                return prim
    if jt.name == "float" and re.search(r"Double(?![a-z])", name):
        return "double"
    prop = name[3:] if name.startswith("get") else name[2:] if name.startswith("is") else name
    setter = params_all.get("set" + prop[:1].upper() + prop[1:])
    if setter and setter.name in ("long", "short", "byte", "double", "float", "int"):
        if (jt.name == "int" and setter.name in ("long", "short", "byte", "int")) or \
                (jt.name == "float" and setter.name in ("double", "float")):
            return setter.name
    return jt.name


def dep(fqn, member, ptypes=None):
    if fqn in DEPRECATED or fqn + "#" + member in DEPRECATED:
        return True
    if ptypes is not None and "%s#%s(%s)" % (fqn, member, ",".join(ptypes)) in DEPRECATED:
        return True
    return False


def default_value(t):
    if t.dims or t.name not in BOXES:
        return "null"
    return {"boolean": "false", "char": "'\\0'"}.get(t.name, "(%s) 0" % t.name)


def jdk_supers(index, res, c, jdk):
    """[(JdkMethod, subst)] for every JDK type c reaches through its (stub) supertypes."""
    out, stack, seen = [], [(res.conv(b, c, "arg"), c) for b in c.bases], set()
    while stack:
        t, owner = stack.pop()
        if t.name in seen:
            continue
        seen.add(t.name)
        if t.name in index.classes:
            sc = index.classes[t.name]
            stack.extend((res.conv(b, sc, "arg"), sc) for b in sc.bases)
        elif t.name in jdk and t.name != "java.lang.Object":
            subst = {}
            for i, n in enumerate(jdk[t.name][3]):
                a = t.args[i] if i < len(t.args) else None
                subst[n] = a.java() if a is not None and a.name != "?" else "java.lang.Object"
            for m in jdk[t.name][4]:
                out.append((m, subst))
    return out


def jsub(text, subst):
    return re.sub(r"(?<![\w.])[A-Z]\w*(?![\w.])", lambda m: subst.get(m.group(0), m.group(0)), text)


OBJECT_FINAL = {("getClass", 0), ("notify", 0), ("notifyAll", 0), ("wait", 0), ("wait", 1), ("wait", 2)}
OBJECT_PUBLIC = {("toString", 0), ("equals", 1), ("hashCode", 0)}
ENUM_IMPLICIT = {"values", "valueOf", "name", "ordinal", "compareTo", "equals", "hashCode",
                 "getDeclaringClass", "clone", "finalize", "describeConstable"}


def gen_class(index, res, c, need, jdk, indent, nested):
    ix = index.classes
    p = "    " * indent
    lines = []
    tps = []
    for tv in c.type_params:
        v = res.tvar(tv, c)
        tps.append(v[0] + (" extends " + res.conv(v[1], c, "bound").java() if v[1] is not None else ""))
    tparams = "<" + ", ".join(tps) + ">" if tps else ""
    bases = [res.conv(b, c, "arg") for b in c.bases]
    bases = [b for b in bases if b.name not in ("java.lang.Object", "java.lang.Enum")]
    if c.kind == "annotation":
        mods = "public " + ("static " if nested else "")
        lines.append(p + "@java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.CLASS)")
        lines.append(p + mods + "@interface " + c.name + " {")
        for n in c.nested:
            if n in need:
                lines += gen_class(index, res, ix[n], need, jdk, indent + 1, True)
        lines.append(p + "}")
        return lines

    def kind_of(name):
        if name in ix:
            return ix[name].kind
        return {"annotation": "interface"}.get(jdk[name][0], jdk[name][0])

    ext, impl = None, []
    for b in bases:
        if ext is None and c.kind == "class" and kind_of(b.name) in ("class", "final"):
            ext = b
    impl = [b for b in bases if b is not ext]
    head = p
    if dep(c.fqn, ""):
        head += "@Deprecated "
    head += "public "
    if nested and c.kind == "class":
        head += "static "
    if c.kind == "interface":
        head += "interface " + c.name + tparams
        if impl:
            head += " extends " + ", ".join(b.java() for b in impl)
    elif c.kind == "enum":
        head += "enum " + c.name
        if impl:
            head += " implements " + ", ".join(b.java() for b in impl)
    else:
        head += ("abstract " if c.abstract else "") + "class " + c.name + tparams
        if ext:
            head += " extends " + ext.java()
        if impl:
            head += " implements " + ", ".join(b.java() for b in impl)
    lines.append(head + " {")
    q = p + "    "
    iface = c.kind == "interface"
    enum = c.kind == "enum"

    # fields (an enum's constants first)
    consts, fields = [], []
    for item in c.node.body:
        if not isinstance(item, ast.AnnAssign):
            continue
        name = item.target.id
        ann = ast.unparse(item.annotation)
        static = "ClassVar" in ann or iface
        t = res.conv(field_ann(item), c, "field")
        key = c.fqn + "#" + name
        if key in FIELD_TYPES:
            t = JType(FIELD_TYPES[key])
        if name in JAVA_KEYWORDS:
            continue
        d = "@Deprecated " if dep(c.fqn, name) else ""
        if enum and static and t.name == c.fqn and t.dims == 0:
            consts.append(d + name)
            continue
        if static:
            if key in CONSTANTS:
                val = CONSTANTS[key]
            elif t.dims == 0 and (t.name in BOXES or t.name == "java.lang.String"):
                val = "quietline.stubs.V.%s()" % ("s" if t.name == "java.lang.String" else FIELD_HELPER[t.name])
            else:
                val = "null"
            fields.append(q + d + "public static final %s %s = %s;" % (t.java(), name, val))
        else:
            fields.append(q + d + "public %s %s;" % (t.java(), name))
    if enum:
        lines.append(q + ", ".join(consts) + ";")
    lines += fields

    # methods
    fns = [i for i in c.node.body if isinstance(i, ast.FunctionDef)]
    setters = {}
    for fn in fns:
        params = fn_params(fn)
        if fn.name.startswith("set") and params and params[-1].annotation is not None:
            setters[fn.name] = res.conv(params[-1].annotation, c, "param")
    seen = set()
    has_noarg_ctor = False
    ctors = []
    jms = jdk_supers(index, res, c, jdk)
    for fn in fns:
        static = is_static(fn)
        params = fn_params(fn)
        if (fn.name, len(params)) in OBJECT_FINAL or (enum and fn.name in ENUM_IMPLICIT) or \
                (iface and not static and (fn.name, len(params)) in OBJECT_PUBLIC):
            continue
        ptypes = [res.conv(a.annotation, c, "param") for a in params]
        erased = (fn.name, tuple(t.erasure() for t in ptypes))
        if erased in seen or (fn.name in JAVA_KEYWORDS):
            continue
        seen.add(erased)
        plist = ", ".join("%s p%d" % (t.java(), i) for i, t in enumerate(ptypes))
        pnames = [t.erasure() for t in ptypes]
        d = "@Deprecated " if dep(c.fqn, fn.name if fn.name != "__init__" else "<init>", pnames) else ""
        if fn.name == "__init__":
            if c.kind != "class":
                continue
            has_noarg_ctor |= not ptypes
            ctors.append((d, plist, ptypes))
            continue
        if fn.name.startswith("__"):
            continue
        rt = res.conv(fn.returns, c, "return") if fn.returns is not None else JType("void")
        if rt.dims == 0 and rt.name in ("int", "float") and not rt.nullable:
            rt = JType(width(c, fn.name, None, setters, rt))
        tp = render_method_tparams(res, c, ptypes + [rt])
        rtj, plist2 = rt.java(), None
        for m, subst in jms:
            if not static and m.name == fn.name and m.erased == [t.erasure().replace("Object", "java.lang.Object") if t.tvar else t.erasure() for t in ptypes]:
                # overrides a JDK method: take the JDK's generic signature (wildcards, widths)
                plist2 = ", ".join("%s p%d" % (jsub(x, subst), i) for i, x in enumerate(m.params))
                # The .pyi writes Java's `char` as `str` (CharSequence.charAt in PrecomputedText...).
                if rt.name in BOXES or rt.name == "void" or rt.erasure() == re.sub(r"<.*>", "", m.ret) \
                        or (rt.name == "java.lang.String" and rt.dims == 0 and m.ret == "char"):
                    rtj = jsub(m.ret, subst)
                tp = ("<" + m.tvars + "> ") if m.tvars else ""
                break
        if plist2 is not None:
            plist = plist2
        nn = "@android.annotation.Nullable " if rt.nullable else ""
        abstract = fn.name in c.abstract_methods
        if iface:
            mods = "static " if static else ("" if abstract else "default ")
        else:
            mods = "public " + ("static " if static else "") + ("abstract " if abstract else "")
        sig = "%s%s%s%s%s %s(%s)" % (d, nn, mods, tp, rtj, fn.name, plist)
        if abstract and not static:
            lines.append(q + sig + ";")
        else:
            lines.append(q + sig + " { throw new RuntimeException(\"stub\"); }")
    # inherited abstract methods (the table's, the JDK interfaces') this concrete class lacks
    if c.kind in ("class", "enum") and not c.abstract:
        lines += inherited_abstract(index, res, c, seen, q, jdk)
    lines += default_clashes(index, res, c, seen, q)

    if c.kind == "class":
        sup = super_call(index, res, c, ext, jdk)
        for d, plist, ptypes in ctors:
            lines.append(q + "%spublic %s(%s) { %s throw new RuntimeException(\"stub\"); }" % (d, c.name, plist, sup))
        if not has_noarg_ctor:
            # The .pyi has no public no-argument constructor: a hidden one for subclasses only.
            lines.append(q + "protected %s(quietline.stubs.Hidden h) { %s }" % (c.name, sup))
    for n in c.nested:
        if n in need:
            lines += gen_class(index, res, ix[n], need, jdk, indent + 1, True)
    lines.append(p + "}")
    return lines


def default_clashes(index, res, c, declared, q):
    """Overrides for a method two stub interfaces both give a default body (javac refuses them)."""
    found = {}
    stack, seen = [res.conv(b, c, "arg").name for b in c.bases], set()
    while stack:
        n = stack.pop()
        if n in seen or n not in index.classes:
            continue
        seen.add(n)
        sc = index.classes[n]
        if sc.kind == "interface":
            for fn in sc.node.body:
                if isinstance(fn, ast.FunctionDef) and not is_static(fn) and fn.name not in sc.abstract_methods \
                        and not fn.name.startswith("__"):
                    ptypes = [res.conv(a.annotation, sc, "param") for a in fn_params(fn)]
                    key = (fn.name, tuple(t.erasure() for t in ptypes))
                    found.setdefault(key, []).append((sc, fn, ptypes))
        stack.extend(res.conv(b, sc, "arg").name for b in sc.bases)
    out = []
    for key, hits in sorted(found.items()):
        if len({h[0].fqn for h in hits}) < 2 or key in declared or (key[0], len(key[1])) in OBJECT_PUBLIC:
            continue
        sc, fn, ptypes = hits[0]
        rt = res.conv(fn.returns, sc, "return") if fn.returns is not None else JType("void")
        if rt.dims == 0 and rt.name in ("int", "float") and not rt.nullable:
            rt = JType(width(sc, fn.name, None, {}, rt))
        plist = ", ".join("%s p%d" % (t.java(), i) for i, t in enumerate(ptypes))
        mods = "default " if c.kind == "interface" else "public "
        out.append(q + "%s%s %s(%s) { throw new RuntimeException(\"stub\"); }" % (mods, rt.java(), fn.name, plist))
    return out


def super_call(index, res, c, ext, jdk):
    if ext is None:
        return ""
    if ext.name in index.classes:
        sc = index.classes[ext.name]
        for fn in sc.node.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "__init__" and not fn_params(fn):
                return "super();"
        return "super((quietline.stubs.Hidden) null);"
    if ext.name in jdk and not jdk[ext.name][2] and JDK_CTORS.get(ext.name):
        ps = JDK_CTORS[ext.name][0]
        return "super(%s);" % ", ".join("(%s) %s" % (x, default_value(JType(x.replace("[]", ""), dims=x.count("[]")))) for x in ps)
    return "super();"


def inherited_abstract(index, res, c, declared, q, jdk):
    out = []
    have = {(n, len(e)) for n, e in declared}
    # what concrete stub superclasses already declare
    sup = [res.conv(b, c, "arg") for b in c.bases]
    chain = [b.name for b in sup]
    while chain:
        s = chain.pop()
        if s in index.classes and index.classes[s].kind == "class":
            sc = index.classes[s]
            for fn in sc.node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name not in sc.abstract_methods:
                    have.add((fn.name, len(fn_params(fn))))
            chain.extend(res.conv(b, sc, "arg").name for b in sc.bases)
    stack, seen = list(sup), set()
    while stack:
        t = stack.pop()
        if t.name in seen:
            continue
        seen.add(t.name)
        if t.name in index.classes:
            sc = index.classes[t.name]
            for fn in sc.node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name in sc.abstract_methods \
                        and (fn.name, len(fn_params(fn))) not in have:
                    ptypes = [res.conv(a.annotation, sc, "param") for a in fn_params(fn)]
                    rt = res.conv(fn.returns, sc, "return") if fn.returns is not None else JType("void")
                    plist = ", ".join("%s p%d" % (x.java(), i) for i, x in enumerate(ptypes))
                    out.append(q + "public %s %s(%s) { throw new RuntimeException(\"stub\"); }" % (rt.java(), fn.name, plist))
                    have.add((fn.name, len(ptypes)))
            stack.extend(res.conv(b, sc, "arg") for b in sc.bases)
    for m, subst in jdk_supers(index, res, c, jdk):
        if m.abstract and (m.name, len(m.params)) not in have:
            plist = ", ".join("%s p%d" % (jsub(x, subst), i) for i, x in enumerate(m.params))
            tp = ("<" + m.tvars + "> ") if m.tvars else ""
            out.append(q + "public %s%s %s(%s) { throw new RuntimeException(\"stub\"); }" % (tp, jsub(m.ret, subst), m.name, plist))
            have.add((m.name, len(m.params)))
    return out


HELPERS = {
    "quietline/stubs/V.java": """package quietline.stubs;
/** Values of the stubs' static final fields: not compile-time constants (the .pyi has no values). */
public final class V {
    private V() {}
    public static int i() { return 0; }
    public static long l() { return 0L; }
    public static boolean b() { return false; }
    public static float f() { return 0f; }
    public static double d() { return 0d; }
    public static short sh() { return 0; }
    public static byte by() { return 0; }
    public static char c() { return 0; }
    public static String s() { return null; }
}
""",
    "quietline/stubs/Hidden.java": """package quietline.stubs;
/** Parameter of the constructors the SDK hides (so stub subclasses can call super). */
public final class Hidden { private Hidden() {} }
""",
}
FIELD_HELPER = {"int": "i", "long": "l", "boolean": "b", "float": "f", "double": "d", "short": "sh",
                "byte": "by", "char": "c"}


def generate(index, res, need, jdk, out):
    if out.exists():
        shutil.rmtree(out)
    files = []
    for rel, text in HELPERS.items():
        f = out / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
        files.append(f)
    for fqn in sorted(need):
        c = index.classes[fqn]
        if c.outer:
            continue
        pkg = c.module
        body = gen_class(index, res, c, need, jdk, 0, False)
        text = "package %s;\n\n" % pkg + "\n".join(body) + "\n"
        f = out / (pkg.replace(".", "/")) / (c.name + ".java")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
        files.append(f)
    return files


# --- 4. compile --------------------------------------------------------------------------------------

def run(cmd, what, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    return r.returncode, (r.stdout + r.stderr)


def kotlinc(args, kotlinc_bin, classpath, srcs, dest):
    return run([kotlinc_bin, "-Werror", "-cp", classpath, "-d", str(dest)] + [str(s) for s in srcs], "kotlinc")


def mutated_compile(kotlinc_bin, cp, sources, out, name, file, old, new):
    """Compiles a copy of the app with `old` replaced by `new` in `file`; returns kotlinc's output
    and whether it failed."""
    work = out / ("selftest-" + name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copies, hit = [], False
    for s in sources:
        t = s.read_text()
        if s.name == file:
            if old not in t:
                fail("self-test %s: %s no longer contains %r" % (name, file, old))
            t, hit = t.replace(old, new, 1), True
        d = work / s.name
        d.write_text(t)
        copies.append(d)
    if not hit:
        fail("self-test %s: %s not found" % (name, file))
    rc, text = kotlinc([], kotlinc_bin, cp, copies, work / "app.jar")
    return rc != 0, text


def refused(index, probe, name):
    """Whether app_references fails on `probe`, naming `name`."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            app_references(index, [probe])
    except SystemExit:
        return name in err.getvalue()
    return False


def self_tests(index, res, a, cp, sources, out):
    n = 0
    # 1. A misspelt Android method fails the compile.
    failed, text = mutated_compile(a.kotlinc, cp, sources, out, "misspelt", "AndroidPlatform.kt",
                                   "dpm.lockNow()", "dpm.lockNoww()")
    if not failed or "lockNoww" not in text:
        print(text, file=sys.stderr)
        fail("self-test: a misspelt DevicePolicyManager.lockNoww() compiled")
    log("ok   self-test: a misspelt API (lockNow -> lockNoww) fails the compile")
    n += 1
    # 2. A deprecated API (used without a reasoned @Suppress) fails the compile (-Werror).
    failed, text = mutated_compile(a.kotlinc, cp, sources, out, "deprecated", "AndroidPlatform.kt",
                                   "dpm.setRequiredPasswordComplexity(DevicePolicyManager.PASSWORD_COMPLEXITY_MEDIUM)",
                                   "dpm.setPasswordQuality(admin, DevicePolicyManager.PASSWORD_QUALITY_NUMERIC_COMPLEX)")
    if not failed or "setPasswordQuality" not in text or "deprecated" not in text.lower():
        print(text, file=sys.stderr)
        fail("self-test: DevicePolicyManager.setPasswordQuality (deprecated) compiled")
    log("ok   self-test: a deprecated API (setPasswordQuality) fails the compile")
    n += 1
    # 3. A class missing from API 36 fails the script before any compile.
    probe = out / "selftest-missing" / "Missing.kt"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text("package x\nimport android.app.admin.DevicePolicyManagr\nclass Missing\n")
    if not refused(index, probe, "DevicePolicyManagr"):
        fail("self-test: an import of a class missing from API 36 was accepted")
    probe.write_text("package x\nimport android.provider.CallLog\nval u = CallLog.Callz.CONTENT_URI\n")
    if not refused(index, probe, "CallLog.Callz"):
        fail("self-test: a use of a nested class missing from API 36 was accepted")
    log("ok   self-test: a class missing from API 36 (import or nested use) fails the script")
    n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kotlinc", required=True)
    ap.add_argument("--classpath", required=True, help="bindings jar and JNA, ':'-separated")
    ap.add_argument("--out", default=str(ROOT / "target" / "android" / "stubs"))
    ap.add_argument("--no-self-test", action="store_true")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    passed = 0

    ensure_stubs()
    index = Index()
    index.load()
    res = Resolver(index)
    sources = sorted(APP_SRC.rglob("*.kt")) + sorted(APP_SRC.rglob("*.java"))
    refs, supers = app_references(index, sources)
    jdk_names = set()
    need = closure(index, res, refs | {"android.annotation.Nullable"}, jdk_names)
    jdk = probe_jdk(jdk_names, out)
    gone = sorted(n for n, v in jdk.items() if v[0] == "missing")
    if gone:
        fail("types the stubs reach are in neither the .pyi nor the JDK: " + ", ".join(gone))
    classify(index, res, need, jdk, supers)
    log("ok   %d android classes referenced by the app resolve in API 36 (%d classes generated)"
        % (len(refs), len(need)))
    passed += 1

    # stubs -> jar, cached by content
    src_dir = out / "src"
    files = generate(index, res, need, jdk, src_dir)
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(str(f.relative_to(src_dir)).encode() + f.read_bytes())
    jar = out / ("android-api36-%s.jar" % digest.hexdigest()[:16])
    if not jar.exists():
        for old in out.glob("android-api36-*.jar"):
            old.unlink()
        classes = out / "classes"
        if classes.exists():
            shutil.rmtree(classes)
        classes.mkdir()
        argfile = out / "javac-files.txt"
        argfile.write_text("\n".join(str(f) for f in files))
        rc, text = run(["javac", "-nowarn", "-encoding", "UTF-8", "-Xmaxerrs", "200", "-d", str(classes),
                        "@" + str(argfile)], "javac")
        if rc != 0:
            print(text[-20000:], file=sys.stderr)
            fail("javac failed on the generated stubs (sources in %s)" % src_dir)
        tmp = jar.with_suffix(".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(classes.rglob("*.class")):
                z.write(f, str(f.relative_to(classes)))
        tmp.rename(jar)
    log("ok   %d stub sources compiled by javac into %s" % (len(files), jar.name))
    passed += 1

    cp = str(jar) + ":" + a.classpath
    rc, text = kotlinc([], a.kotlinc, cp, sources, out / "app.jar")
    if rc != 0:
        print(text, file=sys.stderr)
        fail("the app does not compile against the API 36 stubs with -Werror")
    log("ok   all %d app sources compile with kotlinc -Werror against the API 36 stubs" % len(sources))
    passed += 1

    if not a.no_self_test:
        passed += self_tests(index, res, a, cp, sources, out)
    log("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
