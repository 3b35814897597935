/* Byte-plane shuffle of 4-byte words for git-mlv's SHUFFLE4_ZSTD codec (docs/formats.md).
 *
 * The same transform as git_mlv/core/compress.py's numpy fallback, 2.5-3x faster (numpy's four
 * strided plane copies run ~1.3 GB/s; this loop ~3.5 GB/s into a fresh buffer on the scale-1
 * model's chunks, bench/RESULTS.md), and with the GIL released while it runs, so the pool's
 * reader and writer threads decode and encode chunks side by side. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Below this many bytes, releasing and taking back the GIL costs more than the loop. */
#define NOGIL_MIN 8192

static void do_unshuffle(const uint8_t *src, uint8_t *dst, Py_ssize_t len)
{
    Py_ssize_t n = len / 4;
    const uint8_t *p0 = src, *p1 = src + n, *p2 = src + 2 * n, *p3 = src + 3 * n;
    for (Py_ssize_t i = 0; i < n; i++) {
        dst[4 * i] = p0[i];
        dst[4 * i + 1] = p1[i];
        dst[4 * i + 2] = p2[i];
        dst[4 * i + 3] = p3[i];
    }
    memcpy(dst + 4 * n, src + 4 * n, (size_t)(len - 4 * n));
}

static void do_shuffle(const uint8_t *src, uint8_t *dst, Py_ssize_t len)
{
    Py_ssize_t n = len / 4;
    uint8_t *p0 = dst, *p1 = dst + n, *p2 = dst + 2 * n, *p3 = dst + 3 * n;
    for (Py_ssize_t i = 0; i < n; i++) {
        p0[i] = src[4 * i];
        p1[i] = src[4 * i + 1];
        p2[i] = src[4 * i + 2];
        p3[i] = src[4 * i + 3];
    }
    memcpy(dst + 4 * n, src + 4 * n, (size_t)(len - 4 * n));
}

static PyObject *run(PyObject *arg, void (*fn)(const uint8_t *, uint8_t *, Py_ssize_t))
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, view.len);
    if (out != NULL) {
        uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(out);
        if (view.len >= NOGIL_MIN) {
            Py_BEGIN_ALLOW_THREADS
            fn((const uint8_t *)view.buf, dst, view.len);
            Py_END_ALLOW_THREADS
        } else {
            fn((const uint8_t *)view.buf, dst, view.len);
        }
    }
    PyBuffer_Release(&view);
    return out;
}

static PyObject *shuffle4(PyObject *self, PyObject *arg) { return run(arg, do_shuffle); }
static PyObject *unshuffle4(PyObject *self, PyObject *arg) { return run(arg, do_unshuffle); }

static PyMethodDef methods[] = {
    {"shuffle4", shuffle4, METH_O,
     "Bytes 0 of every 4-byte word, then bytes 1, 2, 3; a shorter tail stays at the end."},
    {"unshuffle4", unshuffle4, METH_O, "The inverse of shuffle4."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_shuffle", "Byte-plane shuffle of 4-byte words (GIL released).", -1, methods,
};

PyMODINIT_FUNC PyInit__shuffle(void) { return PyModule_Create(&module); }
