"""The simulated PACS: synthetic studies, the modality node and the Orthanc archive's content."""
