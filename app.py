"""Launch the Gradio demo and REST API: a thin wrapper around `eye-serve` (same flags).

    python app.py --host 127.0.0.1 --port 7860
"""
from eye_classifier.app import serve_main

if __name__ == "__main__": serve_main()
