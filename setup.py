"""tb-runhistory: a local-first run history with a TensorBoard plugin."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return handle.read()


setup(
    name="tb-runhistory-plugin",
    version="0.1.0",
    description="Local-first run history (experiments, runs, child runs, metrics) with a TensorBoard plugin",
    long_description=_read("README.md"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["tb_runhistory_plugin", "tb_runhistory_plugin.*"]),
    package_data={"tb_runhistory_plugin": ["*.md", "*.yaml"]},
    install_requires=[
        "tensorboard>=2.21,<2.22",
        "protobuf>=4.25,<8",
        "werkzeug>=3.0,<4",
        "numpy>=1.26,<3",
        "requests>=2.31,<3",
    ],
    extras_require={
        "test": [
            "pytest>=8,<10",
            "pytest-timeout>=2.3,<3",
            "pillow>=10,<14",
        ],
        "bench": ["mlflow", "aim", "tensorboardX"],
    },
    entry_points={
        "console_scripts": ["tb-runhistory=tb_runhistory_plugin.cli:main"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: TensorFlow",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
