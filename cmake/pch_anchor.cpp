// Anchor translation unit for the shared precompiled header of in-tree plugins.
