"""tb-runhistory: a local-first run history with a TensorBoard plugin."""

import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class _BuildWithFrontend(build_py):
    """Copy the plain-ES-module frontend into the package: nothing to build, everything to ship."""

    def run(self):
        super().run()
        source = os.path.join(HERE, "frontend")
        target = os.path.join(self.build_lib, "tb_runhistory_plugin", "frontend")
        if os.path.isdir(source):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "test", "bench", "package*.json", ".*"))


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
    package_data={"tb_runhistory_plugin": ["*.md", "server/*.yaml", "plugin/*.yaml", "demos/data/*.csv.gz", "demos/data/README.md"]},
    install_requires=[
        "tensorboard>=2.21,<2.22",
        "protobuf>=4.25,<8",
        "werkzeug>=3.0,<4",
        "numpy>=1.26,<3",
        "requests>=2.31,<3",
        "google-crc32c>=1.5,<2",
        "orjson>=3.8,<4",
        "psutil>=5.9,<8",
        "lark>=1.1,<2",
    ],
    extras_require={
        "postgres": ["psycopg[binary]>=3.1,<4", "psycopg-pool>=3.2,<4"],
        "server": ["waitress>=3,<4"],
        # MLflow import: the skinny client reads file stores; SQL stores (sqlite:///mlflow.db) need SQLAlchemy and Alembic.
        "mlflow": ["mlflow-skinny>=3,<4", "sqlalchemy>=2,<3", "alembic>=1.13,<2"],
        "test": [
            "pytest>=8,<10",
            "pytest-timeout>=2.3,<3",
            "pillow>=10,<14",
            "psycopg[binary]>=3.1,<4",
            "psycopg-pool>=3.2,<4",
            "waitress>=3,<4",
            "pyyaml>=6,<7",
            "playwright>=1.55,<2",
            "matplotlib>=3.7,<4",
            "tensorboardX>=2.6,<3",
            "tbparse>=0.0.9,<0.1",
            "hypothesis>=6.100,<7",
            "schemathesis>=4,<5",
            "mlflow-skinny>=3,<4",
            "sqlalchemy>=2,<3",
            "alembic>=1.13,<2",
            "ruff>=0.15,<0.18",
            "mypy>=1.10,<3",
            "types-requests>=2.31,<3",
            "types-PyYAML>=6,<7",
            "types-psutil>=5.9",
            "types-protobuf>=4.25",
        ],
        "bench": ["mlflow>=3,<4", "aim>=3.29,<4", "tensorboardX>=2.6,<3"],
    },
    cmdclass={"build_py": _BuildWithFrontend},
    entry_points={
        "console_scripts": ["tb-runhistory=tb_runhistory_plugin.cli:main"],
        "tensorboard_plugins": ["runhistory = tb_runhistory_plugin.plugin.loader:RunHistoryLoader"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: TensorFlow",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
