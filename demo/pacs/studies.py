"""Synthetic DICOM studies for the demo and the tests: tiny images of a synthetic patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

SECONDARY_CAPTURE = UID("1.2.840.10008.5.1.4.1.1.7")


def synthetic_study(
    modalities: Iterable[str], when: dt.datetime, study_uid: str | None = None
) -> list[Dataset]:
    """Return one tiny 8x8 instance per modality, all in one study dated `when`, of a synthetic patient."""
    study = study_uid or str(generate_uid())
    instances = []
    for number, modality in enumerate(modalities, start=1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = SECONDARY_CAPTURE
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName = "SYNTHETIC^DEMO"
        ds.PatientID = "SYNTHETIC-0001"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = generate_uid()
        ds.StudyDate = when.strftime("%Y%m%d")
        ds.StudyTime = when.strftime("%H%M%S")
        ds.StudyID = "1"
        ds.AccessionNumber = ""
        ds.Modality = modality
        ds.SeriesNumber = number
        ds.InstanceNumber = 1
        ds.Rows = ds.Columns = 8
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.PixelRepresentation = 0
        ds.PixelData = bytes(64)
        instances.append(ds)
    return instances


def write_instances(instances: Iterable[Dataset], folder: Path) -> list[Path]:
    """Write instances as DICOM files named by SOP instance UID; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in instances:
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
