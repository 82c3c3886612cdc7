"""Analysts' corrections over a real database: stored with the Airflow user and time, shown at once on
the article page, applied to every later digest, kept when articles are reprocessed, exported as
training data, summed up on the quality page; refused to viewers, anonymous and cross-site requests."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

DOCS = [
    (
        "checkpoint.txt",
        "Suicide bomber kills five at police checkpoint in Kandahar",
        "A suicide bomber blew himself up at a police checkpoint in Kandahar on Tuesday, killing five "
        "officers and wounding eleven, Afghanistan's interior ministry said. Islamic State claimed the "
        "attack in a statement. Interior Minister Ahmad Karimi said counter-terrorism units had arrested "
        "two suspected militants who helped plan the bombing.",
        "Frontier Post",
    ),
    (
        "heroin.txt",
        "Customs officers seize 300 kg of heroin on the Tajik-Afghan border",
        "Tajik customs officers seized 300 kilograms of heroin hidden in a lorry at the Panj crossing on "
        "the border with Afghanistan, the Drug Control Agency said on Wednesday. Investigators believe a "
        "drug trafficking network based in Kunduz organised the smuggling route towards Russia.",
        "Dushanbe Herald",
    ),
    (
        "ransomware.txt",
        "Ransomware attack halts container terminal in Klaipeda",
        "A ransomware attack shut down the computer systems of the container terminal in Klaipeda on "
        "Thursday, Lithuania's National Cyber Security Centre said. Hackers encrypted the servers that "
        "schedule cranes and demanded a ransom in bitcoin; the port said no data had been stolen.",
        "Baltic Times",
    ),
    (
        "game.txt",
        "Shadow Protocol review: a squad hunts a bomb maker",
        "The video game Shadow Protocol lets players lead a counter-terrorism squad that hunts a bomb "
        "maker through a fictional port city. Critics praised its graphics and its soundtrack, and the "
        "studio said a sequel is planned for next year.",
        "Games Weekly",
    ),
    (
        "funerals.txt",
        "Funerals for police officers killed in Kandahar checkpoint bombing",
        "Hundreds of mourners attended the funerals on Wednesday of the five police officers killed in "
        "the suicide bombing at a checkpoint in Kandahar. Islamic State claimed the bombing. Interior "
        "Minister Ahmad Karimi promised to strengthen security at checkpoints across the province.",
        "Kabul Daily",
    ),
]
