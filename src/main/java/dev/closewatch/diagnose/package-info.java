/**
 * Diagnosis: from what closed to why. {@link dev.closewatch.diagnose.SignatureDetector} reads the
 * close events (as {@code observe} does) and finds timeout signatures: many abnormal ends of one
 * route and leg at one idle time or one session lifetime, the mark of an intermediary's timeout.
 * {@link dev.closewatch.diagnose.Intermediaries} names the likely culprits from a resource file of
 * well-known defaults. Downstream of {@code websocket}; nothing upstream depends on it.
 */
package dev.closewatch.diagnose;
