import random

import pytest

from autocurriculum.trainers import EOS_ID, PAD_ID, CharTokenizer


def test_from_texts_is_sorted_and_deterministic():
    a = CharTokenizer.from_texts(["b=a", "c+1"])
    b = CharTokenizer.from_texts(["1+c", "a=b"])
    assert a.alphabet == b.alphabet == "+1=abc"
    assert a.vocab_size == len("+1=abc") + 2
    assert min(a.encode(a.alphabet)) == 2  # pad and eos stay reserved


def test_round_trip_random_strings():
    tok = CharTokenizer.from_texts(["0123456789+-*=|ABCxyz "])
    rng = random.Random(0)
    for _ in range(200):
        text = "".join(rng.choice(tok.alphabet) for _ in range(rng.randint(0, 20)))
        ids = tok.encode(text)
        assert PAD_ID not in ids and EOS_ID not in ids
        assert tok.decode(ids) == text


def test_decode_stops_at_eos_and_skips_pad():
    tok = CharTokenizer("ab")
    assert tok.decode([PAD_ID, PAD_ID, *tok.encode("ab"), EOS_ID, *tok.encode("ba")]) == "ab"


def test_unknown_char_names_char_and_position():
    tok = CharTokenizer.from_texts(["0123"])
    with pytest.raises(ValueError, match=r"'\?' at position 2"):
        tok.encode("01?3")


def test_state_dict_round_trip():
    tok = CharTokenizer.from_texts(["A0+="])
    again = CharTokenizer.from_state_dict(tok.state_dict())
    assert again == tok
    assert again.encode("A0+=") == tok.encode("A0+=")


def test_rejects_bad_alphabets():
    with pytest.raises(ValueError, match="duplicate"):
        CharTokenizer("aba")
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer.from_texts([])
