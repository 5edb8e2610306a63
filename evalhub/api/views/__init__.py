"""Thin API views: check the request's shape, call one service or selector, render."""
