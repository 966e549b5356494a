"""Finding a package's example submissions under submissions/<folder>/ and what each
folder expects. The package loader (judge/loader.py) mixes this in."""

from __future__ import annotations

from codebattle.judge import languages
from codebattle.judge.package import PackageSubmission
from codebattle.judge.package_reader import PackageReader
from codebattle.judge.verdicts import EXPECTED_BY_FOLDER


class SubmissionDiscovery(PackageReader):
    def submissions(self) -> list[PackageSubmission]:
        folder = self.root / "submissions"
        if not folder.is_dir():
            return []
        found: list[PackageSubmission] = []
        for verdict_dir in self.entries(folder):
            if not verdict_dir.is_dir():
                self.warn(verdict_dir, "ignored: submissions go in a folder such as accepted/")
                continue
            if verdict_dir.name not in EXPECTED_BY_FOLDER:
                self.warn(verdict_dir, "ignored: unknown submissions folder")
                continue
            for entry in self.entries(verdict_dir):
                language = languages.by_extension(entry.suffix)
                if entry.is_dir():
                    self.warn(entry, "ignored: multi-file submissions are not supported")
                elif language is None:
                    known = ", ".join(languages.extensions())
                    self.warn(entry, f"ignored: unsupported language ({known})")
                else:
                    found.append(PackageSubmission(entry, verdict_dir.name, language.name))
        return sorted(found, key=lambda s: s.path)
