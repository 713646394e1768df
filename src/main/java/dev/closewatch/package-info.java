package dev.closewatch;
