# syntax=docker/dockerfile:1
# The training image: the whole pipeline (`eye-pipeline`: prepare -> train -> evaluate -> register -> promote ->
# export) or any other console script, and papermill with the training notebook. GPU by default.
#
#   docker build -f dockerfiles/train.Dockerfile -t eye-classifier-train .
#   docker run --rm --gpus all -v /path/to/eye_diseases:/srv/eye/data/raw:ro \
#     -v "$PWD/models:/srv/eye/models" -v "$PWD/runs:/srv/eye/runs" eye-classifier-train
#
# The locked torch is PyPI's, which bundles CUDA (the serving image, api.Dockerfile, is the CPU one). Mounted folders
# must be writable by uid 10001 (or run with --user "$(id -u)").
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EYE_HOME=/srv/eye

RUN groupadd --gid 10001 app && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app

WORKDIR /opt/eye_classifier

# Dependencies in their own layer, exactly as locked (hash-checked; PyPI's torch bundles CUDA), so changing the code
# does not reinstall torch.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes --no-deps -r requirements-runtime.lock

COPY pyproject.toml README.md LICENSE ./
COPY eye_classifier ./eye_classifier
RUN pip install --no-deps . \
 && eye-pipeline --help > /dev/null \
 && eye-train --help > /dev/null \
 && mkdir -p /srv/eye/data/raw /srv/eye/models /srv/eye/runs /srv/eye/reports \
 && chown -R 10001:10001 /srv/eye

WORKDIR /srv/eye
COPY --chown=10001:10001 configs ./configs
COPY --chown=10001:10001 nbs/pipelines/train.ipynb ./nbs/pipelines/train.ipynb

USER 10001:10001

CMD ["eye-pipeline", "--raw", "data/raw", "--processed", "data/processed"]
