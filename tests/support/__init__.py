"""What the tests, the benchmarks and the scripts share; nothing here is a test.

- `synthetic`: deterministic generated images and their JPEG and PNG encodings;
- `png_files`: PNGs of every colour type, bit depth and interlacing, and chunk surgery;
- `reference`, `reference_extras`: NumPy restatements of the algorithm and of the extra
  metrics, written to be read;
- `http_helpers`: generated images and multipart bodies for HTTP requests;
- `hostile`: hostile images and request bodies, and the upload checks of their answers;
- `live_server`: the real service under gunicorn on a free loopback port;
- `origin`: a local origin server for the URL endpoint;
- `procfs`: gunicorn's workers and their memory, from /proc.
"""
