"""Input and output: NWB reading and writing, lab-format converters, spike-time tables.

Only modules in this package import pynwb or h5py, and only when called.
"""
