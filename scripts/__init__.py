"""Operations scripts: running both services, the README's generated parts, example images."""
